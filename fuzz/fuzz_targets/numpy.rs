//! Decodes arbitrary bytes, then runs the numpy conversions (array, masked
//! array, scalar, dtype) on every object of the graph, reads every item of
//! what converts, and writes arrays back. Nothing may panic, hang, abort or
//! allocate without bound.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pyckle::classes::numpy::{self, ArrayData, Numpy};
use pyckle::classes::ToPickle;
use pyckle::{Graph, Value};

fuzz_target!(|data: &[u8]| {
    let mut opts = pyckle::DecodeOptions::default();
    opts.limits.max_alloc = 64 << 20;
    opts.limits.max_depth = 100_000;
    let mut u = pyckle::Unpickler::new(opts);
    u.buffers([vec![0u8; 64], (0..=255u8).collect()]);
    let Ok(g) = u.loads(data) else { return };
    for (id, _) in g.objects() {
        let v = Value::Obj(id);
        let found = numpy::recognize(&g, v);
        if let Some(Ok(Numpy::Array(a))) = found {
            let _ = a.data.scalars().len();
            if let ArrayData::Structured(s) = &a.data {
                for r in s.records().take(64) {
                    let _ = r;
                }
                for f in s.dtype().fields.iter().flatten() {
                    let _ = s.field(&f.name);
                }
            }
            let mut w = Graph::new();
            w.set_protocol(5);
            if let Ok(root) = a.to_pickle(&mut w) {
                w.set_root(root);
                let _ = pyckle::dumps(&w, 5);
            }
        }
        let _ = numpy::NdArray::from_graph(&g, v);
        let _ = numpy::Scalar::from_graph(&g, v);
        let _ = numpy::Dtype::from_graph(&g, v);
        let _ = numpy::MaskedArray::from_graph(&g, v);
    }
});

//! torch's dtypes: names, sizes, and the storage classes that stand for them.

/// A torch dtype.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    F64,
    F32,
    F16,
    BF16,
    F8E4M3FN,
    F8E4M3FNUZ,
    F8E5M2,
    F8E5M2FNUZ,
    C64,
    C128,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    Bool,
    /// Quantized: `torch.qint8`, `quint8`, `qint32`, `quint4x2`, `quint2x4`.
    QInt8,
    QUInt8,
    QInt32,
    QUInt4x2,
    QUInt2x4,
}

impl DType {
    /// torch's name without the `torch.` prefix: `float32`, `bfloat16`, `float8_e4m3fn`, `bool`...
    pub fn name(self) -> &'static str {
        match self {
            DType::F64 => "float64",
            DType::F32 => "float32",
            DType::F16 => "float16",
            DType::BF16 => "bfloat16",
            DType::F8E4M3FN => "float8_e4m3fn",
            DType::F8E4M3FNUZ => "float8_e4m3fnuz",
            DType::F8E5M2 => "float8_e5m2",
            DType::F8E5M2FNUZ => "float8_e5m2fnuz",
            DType::C64 => "complex64",
            DType::C128 => "complex128",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::U8 => "uint8",
            DType::U16 => "uint16",
            DType::U32 => "uint32",
            DType::U64 => "uint64",
            DType::Bool => "bool",
            DType::QInt8 => "qint8",
            DType::QUInt8 => "quint8",
            DType::QInt32 => "qint32",
            DType::QUInt4x2 => "quint4x2",
            DType::QUInt2x4 => "quint2x4",
        }
    }
    /// Bytes per element (1 for the sub-byte quantized types, which pack several).
    pub fn itemsize(self) -> usize {
        match self {
            DType::F64 | DType::C64 | DType::I64 | DType::U64 => 8,
            DType::C128 => 16,
            DType::F32 | DType::I32 | DType::U32 | DType::QInt32 => 4,
            DType::F16 | DType::BF16 | DType::I16 | DType::U16 => 2,
            _ => 1,
        }
    }

    /// Every dtype, in the order of the enum.
    pub const ALL: [DType; 24] = [
        DType::F64,
        DType::F32,
        DType::F16,
        DType::BF16,
        DType::F8E4M3FN,
        DType::F8E4M3FNUZ,
        DType::F8E5M2,
        DType::F8E5M2FNUZ,
        DType::C64,
        DType::C128,
        DType::I8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::U8,
        DType::U16,
        DType::U32,
        DType::U64,
        DType::Bool,
        DType::QInt8,
        DType::QUInt8,
        DType::QInt32,
        DType::QUInt4x2,
        DType::QUInt2x4,
    ];

    /// The dtype of a typed storage class, by its name in module `torch`
    /// (or `torch.cuda`): `FloatStorage` is float32, `CharStorage` int8,
    /// `ByteStorage` uint8, `QInt8Storage` qint8... torch has no typed
    /// storage class for float8 and uint16/32/64: their tensors are saved
    /// over a `torch.UntypedStorage` with `_rebuild_tensor_v3`, which names
    /// the dtype (`UntypedStorage` is not a dtype: `None` here).
    pub fn from_storage_class(name: &str) -> Option<DType> {
        Some(match name {
            "DoubleStorage" => DType::F64,
            "FloatStorage" => DType::F32,
            "HalfStorage" => DType::F16,
            "BFloat16Storage" => DType::BF16,
            "ComplexFloatStorage" => DType::C64,
            "ComplexDoubleStorage" => DType::C128,
            "CharStorage" => DType::I8,
            "ShortStorage" => DType::I16,
            "IntStorage" => DType::I32,
            "LongStorage" => DType::I64,
            "ByteStorage" => DType::U8,
            "BoolStorage" => DType::Bool,
            "QInt8Storage" => DType::QInt8,
            "QUInt8Storage" => DType::QUInt8,
            "QInt32Storage" => DType::QInt32,
            "QUInt4x2Storage" => DType::QUInt4x2,
            "QUInt2x4Storage" => DType::QUInt2x4,
            _ => return None,
        })
    }

    /// The dtype of a `torch.<name>` dtype object (as `_rebuild_tensor_v3`
    /// names it), canonical names and torch's aliases: `float32`/`float`,
    /// `float64`/`double`, `float16`/`half`, `int64`/`long`, `int32`/`int`,
    /// `int16`/`short`, `complex64`/`cfloat`, `complex128`/`cdouble`...
    pub fn from_torch_name(name: &str) -> Option<DType> {
        let name = name.strip_prefix("torch.").unwrap_or(name);
        Some(match name {
            "float64" | "double" => DType::F64,
            "float32" | "float" => DType::F32,
            "float16" | "half" => DType::F16,
            "bfloat16" => DType::BF16,
            "float8_e4m3fn" => DType::F8E4M3FN,
            "float8_e4m3fnuz" => DType::F8E4M3FNUZ,
            "float8_e5m2" => DType::F8E5M2,
            "float8_e5m2fnuz" => DType::F8E5M2FNUZ,
            "complex64" | "cfloat" => DType::C64,
            "complex128" | "cdouble" => DType::C128,
            "int8" => DType::I8,
            "int16" | "short" => DType::I16,
            "int32" | "int" => DType::I32,
            "int64" | "long" => DType::I64,
            "uint8" => DType::U8,
            "uint16" => DType::U16,
            "uint32" => DType::U32,
            "uint64" => DType::U64,
            "bool" => DType::Bool,
            "qint8" => DType::QInt8,
            "quint8" => DType::QUInt8,
            "qint32" => DType::QInt32,
            "quint4x2" => DType::QUInt4x2,
            "quint2x4" => DType::QUInt2x4,
            _ => return None,
        })
    }

    /// Real floating point: float64/32/16, bfloat16 and the float8 types
    /// (not complex, as `torch.dtype.is_floating_point`).
    pub fn is_float(self) -> bool {
        matches!(
            self,
            DType::F64
                | DType::F32
                | DType::F16
                | DType::BF16
                | DType::F8E4M3FN
                | DType::F8E4M3FNUZ
                | DType::F8E5M2
                | DType::F8E5M2FNUZ
        )
    }

    pub fn is_complex(self) -> bool {
        matches!(self, DType::C64 | DType::C128)
    }

    /// A quantized dtype (`qint8`, `quint8`, `qint32`, `quint4x2`, `quint2x4`).
    pub fn is_quantized(self) -> bool {
        matches!(self, DType::QInt8 | DType::QUInt8 | DType::QInt32 | DType::QUInt4x2 | DType::QUInt2x4)
    }

    /// True for the signed integer dtypes (not the quantized ones).
    pub fn is_signed_int(self) -> bool {
        matches!(self, DType::I8 | DType::I16 | DType::I32 | DType::I64)
    }

    /// The size of the unit whose bytes are reversed between byte orders:
    /// the item size, except for complex numbers (each half on its own, as
    /// torch's `UntypedStorage.byteswap`) and 1 for single-byte types.
    pub fn swap_unit(self) -> usize {
        if self.is_complex() {
            self.itemsize() / 2
        } else {
            self.itemsize()
        }
    }

    /// The dtype's name in the safetensors format (its header's `"dtype"`):
    /// `F64`, `F32`, `F16`, `BF16`, `F8_E4M3`, `F8_E5M2`, `I8`...`I64`,
    /// `U8`...`U64`, `BOOL`, and the names the Python package (0.6 and
    /// later) also reads: `F8_E4M3FNUZ`, `F8_E5M2FNUZ`, `C64`. `None` for
    /// complex128 and the quantized dtypes, which safetensors has no name
    /// for (a quantized tensor's integer representation can be written as
    /// [`DType::int_repr`]).
    pub fn safetensors_name(self) -> Option<&'static str> {
        Some(match self {
            DType::F64 => "F64",
            DType::F32 => "F32",
            DType::F16 => "F16",
            DType::BF16 => "BF16",
            DType::F8E4M3FN => "F8_E4M3",
            DType::F8E4M3FNUZ => "F8_E4M3FNUZ",
            DType::F8E5M2 => "F8_E5M2",
            DType::F8E5M2FNUZ => "F8_E5M2FNUZ",
            DType::C64 => "C64",
            DType::I8 => "I8",
            DType::I16 => "I16",
            DType::I32 => "I32",
            DType::I64 => "I64",
            DType::U8 => "U8",
            DType::U16 => "U16",
            DType::U32 => "U32",
            DType::U64 => "U64",
            DType::Bool => "BOOL",
            DType::C128 | DType::QInt8 | DType::QUInt8 | DType::QInt32 | DType::QUInt4x2 | DType::QUInt2x4 => {
                return None
            }
        })
    }

    /// The dtype as the `safetensors` crate (0.4) has it: `None` also for
    /// the names its `Dtype` lacks (the fnuz float8 types and complex64),
    /// which [`DType::safetensors_name`] still gives for a header written by hand.
    pub fn safetensors_dtype(self) -> Option<safetensors::Dtype> {
        use safetensors::Dtype as S;
        Some(match self {
            DType::F64 => S::F64,
            DType::F32 => S::F32,
            DType::F16 => S::F16,
            DType::BF16 => S::BF16,
            DType::F8E4M3FN => S::F8_E4M3,
            DType::F8E5M2 => S::F8_E5M2,
            DType::I8 => S::I8,
            DType::I16 => S::I16,
            DType::I32 => S::I32,
            DType::I64 => S::I64,
            DType::U8 => S::U8,
            DType::U16 => S::U16,
            DType::U32 => S::U32,
            DType::U64 => S::U64,
            DType::Bool => S::BOOL,
            _ => return None,
        })
    }

    /// The plain dtype a quantized dtype stores its values as (torch's
    /// `int_repr()`): qint8 -> int8, quint8/quint4x2/quint2x4 -> uint8
    /// (the sub-byte types packed), qint32 -> int32; other dtypes are themselves.
    pub fn int_repr(self) -> DType {
        match self {
            DType::QInt8 => DType::I8,
            DType::QUInt8 | DType::QUInt4x2 | DType::QUInt2x4 => DType::U8,
            DType::QInt32 => DType::I32,
            d => d,
        }
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

pub(crate) mod setorder;

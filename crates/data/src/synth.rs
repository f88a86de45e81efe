//! The synthetic demo shop (see module docs once written).

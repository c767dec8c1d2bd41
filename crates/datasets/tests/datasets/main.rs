//! Integration tests of `visnir-datasets` on trees built in the real layouts.

mod oulu;

//! Fuzz target `import`: see `vbx_tokens_fuzz::checks::import` for what it feeds and checks.

fn main() {
    afl::fuzz!(|data: &[u8]| vbx_tokens_fuzz::checks::import(data));
}

//! Fuzz target `index`: see `vbx_tokens_fuzz::checks::index` for what it feeds and checks.

fn main() {
    afl::fuzz!(|data: &[u8]| vbx_tokens_fuzz::checks::index(data));
}

//! Fuzz target `export`: see `vbx_tokens_fuzz::checks::export` for what it feeds and checks.

fn main() {
    afl::fuzz!(|data: &[u8]| vbx_tokens_fuzz::checks::export(data));
}

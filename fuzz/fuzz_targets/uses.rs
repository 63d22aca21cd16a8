//! Fuzz target `uses`: see `vbx_tokens_fuzz::checks::uses` for what it feeds and checks.

fn main() {
    afl::fuzz!(|data: &[u8]| vbx_tokens_fuzz::checks::uses(data));
}

//! Fuzz target `chain`: see `vbx_tokens_fuzz::checks::chain` for what it feeds and checks.

fn main() {
    afl::fuzz!(|data: &[u8]| vbx_tokens_fuzz::checks::chain(data));
}

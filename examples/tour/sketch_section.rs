//! Tour section: the sketch core.
use crate::Ctx;

pub fn run(_ctx: &Ctx) -> Result<(), String> {
    Ok(())
}

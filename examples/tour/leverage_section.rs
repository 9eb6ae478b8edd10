//! Tour section (being written).
use crate::Ctx;

pub fn run(_ctx: &Ctx) -> Result<(), String> {
    println!("(not yet written)");
    Ok(())
}

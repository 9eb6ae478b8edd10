//! Tour section: tensor_power (lands with its issue).
use crate::Ctx;

pub fn run(_ctx: &Ctx) -> Result<(), String> {
    println!("(not built yet)");
    Ok(())
}

//! `satria`: the one binary. Subcommands wire the library crates together; all logic
//! lives in the crates under `crates/`.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "satria", version, about = "PSC 119 Banyumas emergency dispatch engine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the region facts the binary carries.
    Facts,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Facts => {
            let r = satria_region::Region::banyumas();
            println!(
                "{} kecamatan, {} desa/kelurahan, {} hospitals, {} puskesmas",
                r.kecamatan.len(),
                r.desa.len(),
                r.hospitals.len(),
                r.puskesmas.len()
            );
            println!("{}", satria_region::ATTRIBUTION);
        }
    }
    Ok(())
}

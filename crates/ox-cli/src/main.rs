// mimalloc instead of the system allocator: reading 10,000 runs builds several hundred
// thousand small strings and maps, and glibc's malloc made `ox ls` 1.5x slower.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    ox_cli::main()
}

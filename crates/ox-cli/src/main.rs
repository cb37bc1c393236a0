fn main() -> std::process::ExitCode {
    ox_cli::main()
}

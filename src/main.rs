fn main() {
    println!("recovery-deck");
}

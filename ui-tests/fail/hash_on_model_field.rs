#[axon::model]
pub struct Inner {
    #[hash]
    pub a: i64,
}

fn main() {}

//! Ask the assistant about the demo shop from the command line, one conversation per run:
//!
//! ```sh
//! cargo run -p daogou-guide --example ask -- "300元以下的跑鞋" "便宜点" "换个颜色"
//! ```
//!
//! Each argument is one turn; the parse (JSON), the reply and the picks are printed.

use daogou_data::synth::{generate_shop, ShopConfig};
use daogou_guide::{AskRequest, Guide, GuideConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let turns: Vec<String> = std::env::args().skip(1).collect();
    if turns.is_empty() {
        eprintln!("usage: ask TURN [TURN…]   e.g. ask \"300元以下的跑鞋\" \"便宜点\"");
        std::process::exit(2);
    }
    let items = generate_shop(&ShopConfig { users: 0, ..ShopConfig::default() }).items;
    let guide = Guide::new(&items, GuideConfig::default())?;
    let mut conversation = None;
    for text in turns {
        let req = AskRequest { text: text.clone(), conversation: conversation.clone(), user: None, n: Some(8) };
        let a = guide.ask(&req, None, &[])?;
        conversation = Some(a.conversation.clone());
        println!("\n> {text}\n{}\n{}", serde_json::to_string(&a.parse)?, a.reply);
        for p in &a.items {
            let price = p.price.map_or("-".to_owned(), |v| format!("{v}"));
            println!("  {:>6.3}  ¥{price:<8} {}  ({})", p.score, p.title, p.reason);
        }
    }
    Ok(())
}

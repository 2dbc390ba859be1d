//! A single owner thread holds the map; other threads send it requests
//! through a channel and get answers back on reply channels. At the end the
//! owner hands the map itself back through a channel.
//!
//! Clean: only the owner touches the map while it runs, and the final
//! hand-over is ordered by the channel (a send happens before the receive of
//! that message), so the main thread may read the map as soon as it
//! receives it, before joining the owner.
//!
//! Run: `RACEDET=1 cargo run -p racedet --example map_owner_channel` (exits 0).

use racedet::collections::RaceMap;
use racedet::sync::mpsc;

enum Request {
    Add(&'static str, u32),
    Get(&'static str, mpsc::Sender<Option<u32>>),
}

pub fn run() {
    let (requests, inbox) = mpsc::channel::<Request>();
    let (hand_back, handed) = mpsc::channel();
    let owner = std::thread::spawn(move || {
        let stock = RaceMap::named("stock");
        for request in inbox {
            match request {
                Request::Add(item, n) => {
                    let have = stock.get(&item).unwrap_or(0);
                    stock.insert(item, have + n);
                }
                Request::Get(item, reply) => {
                    let _ = reply.send(stock.get(&item));
                }
            }
        }
        hand_back.send(stock).unwrap();
    });
    let clients: Vec<_> = ["apples", "pears"]
        .into_iter()
        .map(|item| {
            let requests = requests.clone();
            std::thread::spawn(move || {
                for _ in 0..20 {
                    requests.send(Request::Add(item, 1)).unwrap();
                }
                let (reply, answer) = mpsc::channel();
                requests.send(Request::Get(item, reply)).unwrap();
                answer.recv().unwrap()
            })
        })
        .collect();
    for c in clients {
        assert_eq!(c.join().unwrap(), Some(20));
    }
    drop(requests);
    let stock = handed.recv().unwrap();
    assert_eq!(stock.get(&"apples"), Some(20));
    stock.insert("plums", 1);
    owner.join().unwrap();
}

#[allow(dead_code)]
fn main() {
    run();
}

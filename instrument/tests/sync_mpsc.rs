//! Channels: send → the receive of that message.

mod sync_util;

use std::time::Duration;

use racedet::cell::RaceCell;
use racedet::sync::mpsc::{
    RecvError, RecvTimeoutError, SendError, TryRecvError, TrySendError, channel, sync_channel,
};
use sync_util::{Gate, assert_clean, assert_races};

#[test]
fn send_then_recv_is_clean() {
    assert_clean(|| {
        let x = RaceCell::new(0);
        let (tx, rx) = channel();
        std::thread::scope(|s| {
            s.spawn(|| {
                x.set(1);
                tx.send(1).unwrap();
            });
            assert_eq!(rx.recv(), Ok(1));
            assert_eq!(x.get(), 1);
        });
    });
}

#[test]
fn write_after_send_races() {
    assert_races(1, || {
        let x = RaceCell::new(0);
        let (tx, rx) = channel();
        let go = Gate::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                tx.send(1).unwrap();
                x.set(1);
                go.open();
            });
            go.wait();
            assert_eq!(rx.recv(), Ok(1));
            let _ = x.get();
        });
    });
}

/// Two senders, one message taken: the receiver is ordered after the
/// sender of that message only.
#[test]
fn receiver_is_ordered_after_the_messages_it_took_only() {
    assert_races(1, || {
        let (x, y) = (RaceCell::new(0), RaceCell::new(0));
        let (tx, rx) = sync_channel(2);
        let tx2 = tx.clone();
        let first_sent = Gate::new();
        let second_sent = Gate::new();
        std::thread::scope(|s| {
            s.spawn(|| {
                x.set(1);
                tx.send("x").unwrap();
                first_sent.open();
            });
            s.spawn(|| {
                first_sent.wait();
                y.set(1);
                tx2.send("y").unwrap();
                second_sent.open();
            });
            second_sent.wait();
            assert_eq!(rx.recv(), Ok("x"));
            assert_eq!(x.get(), 1); // clean: x's message was taken
            let _ = y.get(); // race: y's message is still queued
        });
    });
}

#[test]
fn try_recv_timeout_and_iterators_acquire() {
    assert_clean(|| {
        let cells: Vec<_> = (0..4).map(|_| RaceCell::new(0)).collect();
        let (tx, rx) = sync_channel(4);
        std::thread::scope(|s| {
            s.spawn(|| {
                for (i, c) in cells.iter().enumerate() {
                    c.set(1);
                    tx.try_send(i).unwrap();
                }
            });
            let a = loop {
                match rx.try_recv() {
                    Ok(v) => break v,
                    Err(TryRecvError::Empty) => std::thread::yield_now(),
                    Err(e) => panic!("{e}"),
                }
            };
            assert_eq!(cells[a].get(), 1);
            let b = rx.recv_timeout(Duration::from_secs(60)).unwrap();
            assert_eq!(cells[b].get(), 1);
            for i in rx.iter().take(2) {
                assert_eq!(cells[i].get(), 1);
            }
        });
    });
}

#[test]
fn errors_carry_the_value_like_std() {
    let (tx, rx) = channel::<String>();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(
        rx.recv_timeout(Duration::from_millis(1)),
        Err(RecvTimeoutError::Timeout)
    );
    drop(rx);
    assert_eq!(tx.send("lost".into()), Err(SendError("lost".to_string())));

    let (tx, rx) = sync_channel::<u8>(0);
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    drop(rx);
    assert_eq!(tx.try_send(2), Err(TrySendError::Disconnected(2)));
    assert_eq!(tx.send(3), Err(SendError(3)));

    let (tx, rx) = channel::<u8>();
    tx.send(1).unwrap();
    drop(tx);
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), vec![1]);
    assert_eq!(rx.recv(), Err(RecvError));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    let (tx, rx) = channel();
    tx.send(5).unwrap();
    drop(tx);
    assert_eq!(rx.into_iter().collect::<Vec<_>>(), vec![5]);
}

/// A rendezvous channel (`sync_channel(0)`) orders the send before the
/// matching receive, like any other channel.
#[test]
fn rendezvous_send_happens_before_the_receive() {
    assert_clean(|| {
        let x = RaceCell::new(0);
        let (tx, rx) = sync_channel(0);
        std::thread::scope(|s| {
            s.spawn(|| {
                x.set(1);
                tx.send(()).unwrap();
            });
            assert_eq!(rx.recv(), Ok(()));
            assert_eq!(x.get(), 1);
        });
    });
}

/// Twin: std documents no edge back from the receiver to the sender whose
/// send it completed, so none is made.
#[test]
fn rendezvous_gives_no_edge_back_to_the_sender() {
    assert_races(1, || {
        let x = RaceCell::new(0);
        let (tx, rx) = sync_channel(0);
        std::thread::scope(|s| {
            s.spawn(|| {
                tx.send(()).unwrap();
                let _ = x.get();
            });
            x.set(1);
            assert_eq!(rx.recv(), Ok(()));
        });
    });
}

/// std documents no edge from a sender's drop to the `Err` a receiver sees
/// on disconnection: none is made (accesses before the drop are published
/// only by messages sent after them).
#[test]
fn disconnection_gives_no_edge() {
    assert_races(1, || {
        let x = RaceCell::new(0);
        let (tx, rx) = channel::<()>();
        std::thread::scope(|s| {
            let x = &x;
            s.spawn(move || {
                x.set(1);
                drop(tx);
            });
            assert_eq!(rx.recv(), Err(RecvError));
            let _ = x.get();
        });
    });
}

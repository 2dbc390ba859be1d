//! Channels with the API of [`std::sync::mpsc`]; each message carries its
//! sender's clock.
//!
//! | operation                                      | happens-before effect                     |
//! |------------------------------------------------|-------------------------------------------|
//! | `send`, `try_send` (attempting)                | snapshots the sender's clock into the message |
//! | `recv`, `try_recv`, `recv_timeout`, iterators returning a message | acquire that message's clock |
//! | failed sends/receives, disconnection, `sync_channel(0)` rendezvous back to the sender | none |
//!
//! The clock travels inside the message ([`MessageClock`]), so a receiver is
//! ordered after exactly the sends whose messages it took, not after
//! whatever else went through the channel. The error types are std's
//! (their fields are public), carrying `T` as std's do.

use std::fmt;
use std::time::Duration;

use racedet_runtime::MessageClock;

pub use std::sync::mpsc::{RecvError, RecvTimeoutError, SendError, TryRecvError, TrySendError};

type Msg<T> = (T, MessageClock);

/// The sending half of [`channel`], as [`std::sync::mpsc::Sender`].
pub struct Sender<T> {
    inner: std::sync::mpsc::Sender<Msg<T>>,
}

/// The sending half of [`sync_channel`], as [`std::sync::mpsc::SyncSender`].
pub struct SyncSender<T> {
    inner: std::sync::mpsc::SyncSender<Msg<T>>,
}

/// The receiving half of a channel, as [`std::sync::mpsc::Receiver`].
pub struct Receiver<T> {
    inner: std::sync::mpsc::Receiver<Msg<T>>,
}

/// An unbounded channel.
///
/// # Examples
///
/// ```
/// use racedet::sync::mpsc::channel;
///
/// let (tx, rx) = channel();
/// racedet::thread::spawn(move || tx.send(42).unwrap());
/// assert_eq!(rx.recv(), Ok(42));
/// ```
#[must_use]
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let (tx, rx) = std::sync::mpsc::channel();
    (Sender { inner: tx }, Receiver { inner: rx })
}

/// A channel with a buffer of `bound` messages (0: rendezvous).
///
/// # Examples
///
/// ```
/// use racedet::sync::mpsc::sync_channel;
///
/// let (tx, rx) = sync_channel(1);
/// tx.send(1).unwrap();
/// assert!(tx.try_send(2).is_err());
/// assert_eq!(rx.recv(), Ok(1));
/// ```
#[must_use]
pub fn sync_channel<T>(bound: usize) -> (SyncSender<T>, Receiver<T>) {
    let (tx, rx) = std::sync::mpsc::sync_channel(bound);
    (SyncSender { inner: tx }, Receiver { inner: rx })
}

#[inline]
fn received<T>((t, clock): Msg<T>) -> T {
    clock.receive();
    t
}

impl<T> Sender<T> {
    /// Sends `t`; never blocks.
    ///
    /// # Errors
    /// `SendError(t)` if the receiver is gone.
    #[inline]
    pub fn send(&self, t: T) -> Result<(), SendError<T>> {
        self.inner
            .send((t, MessageClock::send()))
            .map_err(|SendError((t, _))| SendError(t))
    }
}

impl<T> SyncSender<T> {
    /// Sends `t`, blocking while the buffer is full.
    ///
    /// # Errors
    /// `SendError(t)` if the receiver is gone.
    #[inline]
    pub fn send(&self, t: T) -> Result<(), SendError<T>> {
        self.inner
            .send((t, MessageClock::send()))
            .map_err(|SendError((t, _))| SendError(t))
    }

    /// Sends `t` if there is room now.
    ///
    /// # Errors
    /// `Full(t)` or `Disconnected(t)`.
    #[inline]
    pub fn try_send(&self, t: T) -> Result<(), TrySendError<T>> {
        self.inner
            .try_send((t, MessageClock::send()))
            .map_err(|e| match e {
                TrySendError::Full((t, _)) => TrySendError::Full(t),
                TrySendError::Disconnected((t, _)) => TrySendError::Disconnected(t),
            })
    }
}

impl<T> Receiver<T> {
    /// Blocks for the next message.
    ///
    /// # Errors
    /// `RecvError` once every sender is gone and the channel is empty.
    #[inline]
    pub fn recv(&self) -> Result<T, RecvError> {
        self.inner.recv().map(received)
    }

    /// The next message, if one is waiting.
    ///
    /// # Errors
    /// `Empty` or `Disconnected`.
    #[inline]
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.inner.try_recv().map(received)
    }

    /// Blocks for the next message for at most `timeout`.
    ///
    /// # Errors
    /// `Timeout` or `Disconnected`.
    #[inline]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.inner.recv_timeout(timeout).map(received)
    }

    /// Blocking iterator over messages, ending when every sender is gone.
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// Iterator over the messages waiting now.
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }
}

/// Blocking iterator, from [`Receiver::iter`].
#[derive(Debug)]
pub struct Iter<'a, T: 'a> {
    rx: &'a Receiver<T>,
}

/// Non-blocking iterator, from [`Receiver::try_iter`].
#[derive(Debug)]
pub struct TryIter<'a, T: 'a> {
    rx: &'a Receiver<T>,
}

/// Owning blocking iterator, from `Receiver::into_iter`.
#[derive(Debug)]
pub struct IntoIter<T> {
    rx: Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        Sender {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Clone for SyncSender<T> {
    fn clone(&self) -> SyncSender<T> {
        SyncSender {
            inner: self.inner.clone(),
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for SyncSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncSender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

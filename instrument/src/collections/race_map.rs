//! [`RaceMap`]: a hash map shared through `&self`, checked like a Go map.
//!
//! Representation: the detector's [`Object`] (the map's inline shadow word
//! and its description: kind, name, creation site) in its own heap block,
//! and the data inline behind an internal [`BiasedRwLock`] (free of atomic
//! read-modify-writes while one thread uses the map). Boxing the object
//! keeps the shadow at one address for the map's whole life, so moving the
//! handle keeps its history and reports of one map always show one address;
//! dropping the map drops the shadow with it, so a new map at a reused
//! address starts clean. Keeping the lock and the table header inline puts
//! them on the cache lines of whatever lock the program wraps the map in.
//!
//! Every `&self` method takes the internal lock, records a whole-map read
//! or write at the caller's line (`#[track_caller]`), then does the real
//! operation. The lock only provides memory safety: racedet does not see it,
//! so it creates no happens-before edge and hides no race. A read made
//! while holding the racedet lock that the map's writers hold exclusively
//! skips it (`biased_lock/elision.rs`): that lock already keeps the writers
//! out, and a writer that does not hold it first waits for such readers. Because every
//! check runs under it, a check made while the lock excludes all other
//! threads (a write, or any call through the bias) updates the shadow
//! without the shadow's own lock, and concurrent readers record their reads
//! in per-thread entries, also without it (`Object::read_shared`). `&mut self`
//! and by-value methods are exclusive by the borrow checker, which implies
//! that every earlier access happens before them (whatever synchronisation
//! handed over the map, instrumented or not): they are not checked and they
//! reset the history.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::collections::hash_map::{self, RandomState};
use std::fmt;
use std::hash::{BuildHasher, Hash};

use racedet_runtime::{Object, Site};

use crate::biased_lock::{BiasedRwLock, ReadGuard, WriteGuard};

const KIND: &str = "RaceMap";

/// A hash map shared across threads through `&self`, whose unsynchronised
/// use is reported as a data race (see the [module docs](super)).
///
/// Reads of the whole map: [`get`](Self::get), [`get_with`](Self::get_with),
/// [`contains_key`](Self::contains_key), [`len`](Self::len),
/// [`is_empty`](Self::is_empty), [`keys`](Self::keys),
/// [`values`](Self::values), [`iter`](Self::iter),
/// [`for_each`](Self::for_each), `clone`.
/// Writes of the whole map: [`insert`](Self::insert),
/// [`remove`](Self::remove), [`clear`](Self::clear),
/// [`retain`](Self::retain), [`update`](Self::update),
/// [`get_or_insert_with`](Self::get_or_insert_with).
///
/// Closures given to `get_with`, `for_each`, `retain` and `update` run
/// under the internal lock: calling back into the same map from them to
/// write (or from `update`/`retain` at all) is a bug that panics or
/// deadlocks, as it would with `RwLock<HashMap>`.
///
/// ```
/// use racedet::collections::RaceMap;
/// use racedet::sync::RwLock;
///
/// let users = RwLock::new(RaceMap::named("users"));
/// racedet::assert_race_free(|| {
///     std::thread::scope(|s| {
///         s.spawn(|| users.write().unwrap().insert("ann", 1));
///         s.spawn(|| users.read().unwrap().get(&"ann"));
///     });
/// });
/// ```
#[repr(C)]
pub struct RaceMap<K, V, S = RandomState> {
    /// Inline and first, so that a map behind the program's own lock shares
    /// that lock's cache line (std's locks keep their data last): one fewer
    /// line moving between cores per call.
    map: BiasedRwLock<HashMap<K, V, S>>,
    /// Boxed: the shadow's address is the map's identity (module docs).
    object: Box<Object>,
}

impl<K, V> RaceMap<K, V, RandomState> {
    /// An empty map; reports name its creation site.
    #[track_caller]
    pub fn new() -> Self {
        Self::build(HashMap::new(), None, Site::caller())
    }

    /// An empty map with a name for reports (`RaceMap "users"`).
    #[track_caller]
    pub fn named(name: &str) -> Self {
        Self::build(HashMap::new(), Some(name), Site::caller())
    }

    /// An empty map with room for `capacity` entries.
    #[track_caller]
    pub fn with_capacity(capacity: usize) -> Self {
        Self::build(HashMap::with_capacity(capacity), None, Site::caller())
    }
}

impl<K, V, S> RaceMap<K, V, S> {
    fn build(map: HashMap<K, V, S>, name: Option<&str>, site: Site) -> Self {
        RaceMap {
            object: Box::new(Object::new(KIND, name, site)),
            map: BiasedRwLock::new(map, true),
        }
    }

    /// An empty map using `hasher`.
    #[track_caller]
    pub fn with_hasher(hasher: S) -> Self {
        Self::build(HashMap::with_hasher(hasher), None, Site::caller())
    }

    /// An empty, named map using `hasher`.
    #[track_caller]
    pub fn named_with_hasher(name: &str, hasher: S) -> Self {
        Self::build(HashMap::with_hasher(hasher), Some(name), Site::caller())
    }

    /// Whether readers that hold the racedet lock this map's writers hold
    /// skip the map's own lock: `"claimed"`, `"unclaimed"`, `"revoking"` or
    /// `"off"` (see `biased_lock/elision.rs`). For tests.
    #[doc(hidden)]
    pub fn elision_state(&self) -> &'static str {
        self.map.elision_state()
    }

    /// The name given at creation, if any.
    pub fn name(&self) -> Option<&str> {
        self.object.name()
    }

    /// The map's address in race reports (`object.addr`): fixed for the
    /// map's life, whatever moves its handle.
    pub fn object_addr(&self) -> usize {
        std::ptr::from_ref::<Object>(&self.object) as usize
    }

    // `inline(always)` here and on the hottest operations (`get`,
    // `insert`): out of line, the call and its register saves cost 13
    // instructions per map operation, on or off (callgrind).
    #[inline(always)]
    fn read(&self, site: Site) -> ReadGuard<'_, HashMap<K, V, S>> {
        let guard = self.map.read();
        if guard.is_exclusive() {
            // SAFETY: every check of `object` happens under `map`'s lock
            // (here and in `write`), and this guard excludes all other
            // threads from it.
            unsafe { self.object.read_exclusive(site) };
        } else {
            // SAFETY: other readers may be inside, but no writer: every
            // check of `object` is made under `map`'s lock, reads through
            // shared guards here and everything else exclusively (above and
            // in `write`).
            unsafe { self.object.read_shared(site) };
        }
        guard
    }

    #[inline(always)]
    fn write(&self, site: Site) -> WriteGuard<'_, HashMap<K, V, S>> {
        let guard = self.map.write();
        // SAFETY: as in `read`; a write guard excludes every other thread.
        unsafe { self.object.write_exclusive(site) };
        guard
    }

    /// Number of entries: a read of the map.
    #[track_caller]
    #[inline]
    pub fn len(&self) -> usize {
        self.read(Site::caller()).len()
    }

    /// `len() == 0`: a read of the map.
    #[track_caller]
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.read(Site::caller()).is_empty()
    }

    /// A snapshot of the keys: a read of the map.
    #[track_caller]
    pub fn keys(&self) -> Vec<K>
    where
        K: Clone,
    {
        self.read(Site::caller()).keys().cloned().collect()
    }

    /// A snapshot of the values: a read of the map.
    #[track_caller]
    pub fn values(&self) -> Vec<V>
    where
        V: Clone,
    {
        self.read(Site::caller()).values().cloned().collect()
    }

    /// A snapshot of the entries: a read of the map.
    #[track_caller]
    pub fn iter(&self) -> Vec<(K, V)>
    where
        K: Clone,
        V: Clone,
    {
        self.read(Site::caller())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Calls `f` on every entry: a read of the map.
    #[track_caller]
    pub fn for_each(&self, mut f: impl FnMut(&K, &V)) {
        for (k, v) in self.read(Site::caller()).iter() {
            f(k, v);
        }
    }

    /// Removes every entry: a write of the map.
    #[track_caller]
    pub fn clear(&self) {
        self.write(Site::caller()).clear();
    }

    /// Keeps the entries for which `f` returns `true`: a write of the map.
    #[track_caller]
    pub fn retain(&self, f: impl FnMut(&K, &mut V) -> bool) {
        self.write(Site::caller()).retain(f);
    }

    /// Exclusive access to the underlying map: not checked; the history is
    /// forgotten.
    pub fn as_mut_map(&mut self) -> &mut HashMap<K, V, S> {
        self.object.reset();
        self.map.get_mut()
    }

    /// Mutable iteration (exclusive): not checked; the history is forgotten.
    pub fn iter_mut(&mut self) -> hash_map::IterMut<'_, K, V> {
        self.as_mut_map().iter_mut()
    }

    /// The underlying map.
    pub fn into_inner(self) -> HashMap<K, V, S> {
        self.map.into_inner()
    }
}

impl<K, V, S> RaceMap<K, V, S>
where
    K: Eq + Hash,
    S: BuildHasher,
{
    /// A clone of the value for `key`: a read of the map.
    #[track_caller]
    #[inline(always)]
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        self.read(Site::caller()).get(key).cloned()
    }

    /// `f` applied to the value for `key` (no clone): a read of the map.
    #[track_caller]
    #[inline]
    pub fn get_with<Q, R>(&self, key: &Q, f: impl FnOnce(&V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.read(Site::caller()).get(key).map(f)
    }

    /// Whether `key` is present: a read of the map.
    #[track_caller]
    #[inline]
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.read(Site::caller()).contains_key(key)
    }

    /// Inserts, returning the old value: a write of the map.
    #[track_caller]
    #[inline(always)]
    pub fn insert(&self, key: K, value: V) -> Option<V> {
        self.write(Site::caller()).insert(key, value)
    }

    /// Removes `key`, returning its value: a write of the map.
    #[track_caller]
    #[inline]
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.write(Site::caller()).remove(key)
    }

    /// Modifies the value for `key` in place, if present: a write of the
    /// map (also when `key` is absent, as a Go `m[k] op= v` would be).
    #[track_caller]
    #[inline]
    pub fn update<Q, R>(&self, key: &Q, f: impl FnOnce(&mut V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.write(Site::caller()).get_mut(key).map(f)
    }

    /// The value for `key`, inserting `f()` first if absent: a write of the
    /// map. `f` runs outside the internal lock, so it may use the map.
    #[track_caller]
    pub fn get_or_insert_with(&self, key: K, f: impl FnOnce() -> V) -> V
    where
        V: Clone,
    {
        let site = Site::caller();
        if let Some(v) = self.write(site).get(&key) {
            return v.clone();
        }
        let value = f();
        self.map.write().entry(key).or_insert(value).clone()
    }

    /// Exclusive access to the value for `key`: not checked; the history is
    /// forgotten.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.as_mut_map().get_mut(key)
    }
}

impl<K, V> Default for RaceMap<K, V, RandomState> {
    #[track_caller]
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Clone, V: Clone, S: Clone> Clone for RaceMap<K, V, S> {
    /// A new map with the same entries and name: a read of `self`.
    #[track_caller]
    fn clone(&self) -> Self {
        let site = Site::caller();
        let map = self.read(site).clone();
        Self::build(map, self.name(), site)
    }
}

impl<K, V, S> From<HashMap<K, V, S>> for RaceMap<K, V, S> {
    #[track_caller]
    fn from(map: HashMap<K, V, S>) -> Self {
        Self::build(map, None, Site::caller())
    }
}

impl<K: Eq + Hash, V> FromIterator<(K, V)> for RaceMap<K, V, RandomState> {
    #[track_caller]
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self::build(iter.into_iter().collect(), None, Site::caller())
    }
}

impl<K: Eq + Hash, V, S: BuildHasher> Extend<(K, V)> for RaceMap<K, V, S> {
    /// Exclusive (`&mut self`): not checked; the history is forgotten.
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        self.as_mut_map().extend(iter);
    }
}

impl<K, V, S> IntoIterator for RaceMap<K, V, S> {
    type Item = (K, V);
    type IntoIter = hash_map::IntoIter<K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.into_inner().into_iter()
    }
}

impl<'a, K, V, S> IntoIterator for &'a mut RaceMap<K, V, S> {
    type Item = (&'a K, &'a mut V);
    type IntoIter = hash_map::IterMut<'a, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl<K, V, S> fmt::Debug for RaceMap<K, V, S> {
    /// Shows the name only: printing the entries would be an access.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RaceMap")
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}

//! The attempt arena: every attempt of the memory engine, by id.

use std::collections::VecDeque;

use crate::backend::Id;
use crate::status::AttemptStatus;
use crate::value::Map;

use super::spec::Slot;
use super::Time;

pub(crate) struct AttemptState {
    pub spec: Id,
    pub unit: Slot,
    /// The unit's previous attempt.
    pub prev: Option<Id>,
    pub worker: Id,
    pub status: AttemptStatus,
    pub data: Map,
    pub start: Time,
    pub end: Option<Time>,
    pub expiration: Time,
}

/// Every attempt, by id. Attempt ids come from their own counter, so the
/// attempts sit in creation order in a deque: creating and finding one is an
/// index (no hashing, and neighbours in time are neighbours in memory).
/// Removed attempts leave a hole until every older one is removed too.
#[derive(Default)]
pub(crate) struct Attempts {
    /// The id of `items[0]`.
    base: Id,
    items: VecDeque<Option<AttemptState>>,
}

impl Attempts {
    /// The id the next attempt gets.
    pub fn next_id(&self) -> Id {
        self.base + self.items.len() as Id
    }

    fn index(&self, id: Id) -> Option<usize> {
        usize::try_from(id.checked_sub(self.base)?).ok()
    }

    pub fn get(&self, id: &Id) -> Option<&AttemptState> {
        self.items.get(self.index(*id)?)?.as_ref()
    }

    pub fn get_mut(&mut self, id: &Id) -> Option<&mut AttemptState> {
        let i = self.index(*id)?;
        self.items.get_mut(i)?.as_mut()
    }

    pub fn contains_key(&self, id: &Id) -> bool {
        self.get(id).is_some()
    }

    /// Adds the attempt with id `next_id()`.
    pub fn push(&mut self, att: AttemptState) -> Id {
        let id = self.next_id();
        self.items.push_back(Some(att));
        id
    }

    pub fn remove(&mut self, id: &Id) -> Option<AttemptState> {
        let i = self.index(*id)?;
        let att = self.items.get_mut(i)?.take();
        while let Some(None) = self.items.front() {
            self.items.pop_front();
            self.base += 1;
        }
        att
    }
}

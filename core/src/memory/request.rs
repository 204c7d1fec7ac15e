//! `Worker::request_attempts` on the memory engine: the shared algorithm of
//! `rules::request_attempts`, claiming units from the in-memory queues.

use chrono::TimeDelta;

use crate::backend::Id;
use crate::error::Result;
use crate::meta::AttemptRequest;
use crate::rules::{self, Claims};
use crate::status::AttemptStatus;
use crate::value::Map;

use super::capacity::{data_bytes, delta, OBJECT_BYTES};
use super::spec::SpecState;
use super::{State, Time};

/// The chosen spec's units, claimed for one worker.
struct MemoryClaims<'a> {
    st: &'a mut State,
    spec: Id,
    worker: Id,
    /// Attempts started so far.
    started: usize,
}

impl Claims for MemoryClaims<'_> {
    type Attempt = Id;

    fn start_next(&mut self, lifetime: TimeDelta, now: Time) -> Result<Option<(Id, u64)>> {
        let spec = self.st.spec(self.spec)?;
        let Some(&(_, _, slot)) = spec.queues.available.first() else {
            return Ok(None);
        };
        // Past the capacity bound the request ends: with the attempts made
        // so far, or with `Capacity` when there are none.
        if let Err(e) = self.st.admit_attempt(self.spec, slot) {
            return if self.started > 0 { Ok(None) } else { Err(e) };
        }
        self.st.spec_mut(self.spec)?.queues.available.pop_first();
        self.started += 1;
        // Already out of its queue: attach without another search.
        self.st
            .attach_attempt(self.spec, slot, self.worker, lifetime, now)
            .map(Some)
    }

    fn start_continuous(
        &mut self,
        name: &str,
        next: Time,
        lifetime: TimeDelta,
        now: Time,
    ) -> Result<(Id, u64)> {
        let slot = match self.st.spec(self.spec)?.names.get(name) {
            Some(&slot) => slot,
            None => {
                // The unit and its attempt, admitted together.
                let bytes = 2 * (OBJECT_BYTES + data_bytes(&Map::new()));
                self.st.usage.admit(&self.st.limits, 1, delta(0, bytes))?;
                self.st
                    .put_unit(self.spec, name, Map::new(), Default::default(), now)?
            }
        };
        self.started += 1;
        self.st.spec_mut(self.spec)?.meta.next_continuous = Some(next);
        self.st
            .start_attempt(self.spec, slot, self.worker, lifetime, now)
    }

    fn fail(&mut self, attempt: &Id, data: Map, now: Time) -> Result<()> {
        self.st
            .complete(*attempt, AttemptStatus::Failed, Some(data), now);
        Ok(())
    }
}

impl State {
    /// Sweeps the worker's namespace, lets the scheduler choose a spec, and
    /// hands out its units; no work gives an empty list.
    pub(super) fn request(
        &mut self,
        worker: Id,
        req: &AttemptRequest,
        now: Time,
    ) -> Result<Vec<Id>> {
        let ns = self.worker(worker)?.ns;
        let ids: Vec<Id> = self.ns(ns)?.specs.values().copied().collect();
        for &id in &ids {
            self.sweep(id, now); // also refreshes the counts in the spec's meta
        }
        let State { specs, rng, .. } = self;
        // The stored metas of the specs the request admits, in name order,
        // read in place.
        let candidates: Vec<(Id, &SpecState)> = ids
            .iter()
            .filter_map(|&id| Some((id, specs.get(&id)?)))
            .filter(|(_, s)| rules::request_admits(req, &s.name, &s.meta))
            .collect();
        let metas = candidates.iter().map(|(_, s)| (&*s.name, &s.meta));
        let Some(chosen) = rules::choose_spec(metas, now, rng) else {
            return Ok(Vec::new());
        };
        let Some((spec, meta)) = candidates
            .iter()
            .find(|(_, s)| *s.name == *chosen)
            .map(|(id, s)| (*id, s.meta.clone()))
        else {
            return Ok(Vec::new());
        };
        let mut claims = MemoryClaims {
            st: self,
            spec,
            worker,
            started: 0,
        };
        rules::request_attempts(&mut claims, &meta, req, now)
    }
}

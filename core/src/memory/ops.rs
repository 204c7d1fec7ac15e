//! One `match` from operations to the engine: looks objects up by id, calls
//! the engine (which owns every index change) and builds the reply.

use std::sync::Arc;

use crate::backend::{Id, Op, Reply, UnitId};
use crate::clock::add;
use crate::error::{Error, Result};
use crate::meta::WorkUnitMeta;
use crate::rules::{self, DEFAULT_LEASE};
use crate::value::Map;

use super::attempts::AttemptState;
use super::engine::sorted;
use super::{NsState, State, Time, WorkerState};

impl State {
    /// Runs one operation at `now`.
    pub(super) fn apply(&mut self, op: Op, now: Time) -> Result<Reply> {
        if self.closed {
            return Err(Error::Gone);
        }
        Ok(match op {
            // ---- Coordinate ----
            Op::Namespace { name } => {
                let id = self.namespace(&name);
                Reply::Namespace(self.ns_ref(id).ok_or(Error::Gone)?)
            }
            Op::Namespaces => Reply::Namespaces(
                self.ns_by_name
                    .values()
                    .filter_map(|&id| self.ns_ref(id))
                    .collect(),
            ),
            Op::Summarize => {
                let ids: Vec<Id> = self.ns_by_name.values().copied().collect();
                Reply::Summary(
                    ids.into_iter()
                        .flat_map(|id| self.summarize_ns(id, now))
                        .collect(),
                )
            }

            // ---- Namespace ----
            Op::DestroyNamespace { ns } => {
                self.destroy_namespace(ns);
                Reply::Done
            }
            Op::SetWorkSpec { ns, data } => {
                let id = self.set_work_spec(ns, data)?;
                Reply::Spec(self.spec_ref(id).ok_or(Error::Gone)?)
            }
            Op::WorkSpec { ns, name } => {
                let id = self.spec_named(ns, &name)?;
                Reply::Spec(self.spec_ref(id).ok_or(Error::Gone)?)
            }
            Op::DestroyWorkSpec { ns, name } => {
                let id = self.spec_named(ns, &name)?;
                self.remove_spec(id);
                Reply::Done
            }
            Op::WorkSpecNames { ns } => {
                Reply::Names(self.ns(ns)?.specs.keys().map(|k| k.to_string()).collect())
            }
            Op::Worker { ns, name } => {
                let id = self.worker_named(ns, &name, now)?;
                Reply::Worker(self.worker_ref(id))
            }
            Op::Workers { ns } => Reply::Workers(
                self.ns(ns)?
                    .workers
                    .values()
                    .filter_map(|&id| self.worker_ref(id))
                    .collect(),
            ),
            Op::SummarizeNamespace { ns } => {
                self.ns(ns)?;
                Reply::Summary(self.summarize_ns(ns, now))
            }

            // ---- WorkSpec ----
            Op::SpecData { spec } => Reply::Data(self.spec(spec)?.data.clone()),
            Op::SetSpecData { spec, data } => {
                self.set_spec_data(spec, data)?;
                Reply::Done
            }
            Op::SpecMeta { spec, with_counts } => {
                self.spec(spec)?;
                if with_counts {
                    self.sweep(spec, now);
                }
                Reply::SpecMeta(self.meta(spec, with_counts)?)
            }
            Op::SetSpecMeta { spec, meta } => {
                self.spec_mut(spec)?.meta.apply_settable(&meta);
                Reply::Done
            }
            Op::AddWorkUnit {
                spec,
                name,
                data,
                meta,
            } => {
                let slot = self.put_unit(spec, &name, data, meta, now)?;
                let unit = self.spec(spec)?.unit(slot).ok_or(Error::Gone)?;
                Reply::Unit(State::unit_ref(
                    self.spec_ref(spec).ok_or(Error::Gone)?,
                    unit,
                ))
            }
            Op::AddWorkUnits { spec, items } => {
                Reply::Count(self.put_units(spec, items, now)? as u64)
            }
            Op::WorkUnit { spec, name } => {
                let (_, unit) = self
                    .spec(spec)?
                    .named(&name)
                    .ok_or(Error::NoSuchWorkUnit { name })?;
                Reply::Unit(State::unit_ref(
                    self.spec_ref(spec).ok_or(Error::Gone)?,
                    unit,
                ))
            }
            Op::WorkUnits { spec, query } => {
                let selected = self.select(spec, &query, now)?;
                let spec_ref = self.spec_ref(spec).ok_or(Error::Gone)?;
                let spec = self.spec(spec)?;
                Reply::Units(
                    selected
                        .into_iter()
                        .filter_map(|slot| spec.unit(slot))
                        .map(|unit| State::unit_ref(spec_ref.clone(), unit))
                        .collect(),
                )
            }
            Op::CountWorkUnitStatus { spec } => {
                self.spec(spec)?;
                self.sweep(spec, now);
                Reply::StatusCounts(self.status_counts(spec)?.into_iter().collect())
            }
            Op::SetWorkUnitPriorities {
                spec,
                query,
                priority,
            } => {
                self.reprioritize(spec, &query, now, |_| priority)?;
                Reply::Done
            }
            Op::AdjustWorkUnitPriorities {
                spec,
                query,
                adjustment,
            } => {
                self.reprioritize(spec, &query, now, |p| p + adjustment)?;
                Reply::Done
            }
            Op::DeleteWorkUnits { spec, query } => {
                Reply::Count(self.delete_units(spec, &query, now)?)
            }
            Op::SummarizeSpec { spec } => {
                self.spec(spec)?;
                Reply::Summary(self.summarize_spec(spec, now))
            }

            // ---- WorkUnit ----
            Op::UnitData { unit } => {
                let (_, u) = self.unit(unit)?;
                let active = u.active.and_then(|a| self.attempts.get(&a));
                Reply::Data(active.map_or_else(|| u.data.clone(), |a| a.data.clone()))
            }
            Op::UnitStatus { unit } => {
                self.unit(unit)?;
                self.sweep(unit.spec, now);
                let (_, u) = self.unit(unit)?;
                Reply::UnitStatus(self.unit_status(u, now))
            }
            Op::UnitMeta { unit } => {
                let (_, u) = self.unit(unit)?;
                Reply::UnitMeta(WorkUnitMeta {
                    priority: u.priority,
                    not_before: u.not_before,
                })
            }
            Op::SetUnitMeta { unit, meta } => {
                let (slot, _) = self.unit(unit)?;
                self.set_unit_meta(unit.spec, slot, meta.priority, Some(meta.not_before), now)?;
                Reply::Done
            }
            Op::SetUnitPriority { unit, priority } => {
                let (slot, _) = self.unit(unit)?;
                self.set_unit_meta(unit.spec, slot, priority, None, now)?;
                Reply::Done
            }
            Op::ActiveAttempt { unit } => {
                self.unit(unit)?;
                self.sweep(unit.spec, now);
                let (_, u) = self.unit(unit)?;
                Reply::Attempt(u.active.and_then(|a| self.attempt_ref(a)))
            }
            Op::ClearActiveAttempt { unit } => {
                let (slot, _) = self.unit(unit)?;
                self.clear_active(unit.spec, slot, now)?;
                Reply::Done
            }
            Op::UnitAttempts { unit } => {
                let (_, u) = self.unit(unit)?;
                Reply::Attempts(self.attempt_refs(self.unit_attempts(u)))
            }
            Op::NumAttempts { unit } => Reply::Count(u64::from(self.unit(unit)?.1.num_attempts)),

            // ---- Attempt ----
            Op::AttemptStatus { attempt } => {
                Reply::AttemptStatus(self.read_attempt(attempt, true, now, |a| a.status)?)
            }
            Op::AttemptData { attempt } => {
                Reply::Data(self.read_attempt(attempt, false, now, |a| a.data.clone())?)
            }
            Op::AttemptStartTime { attempt } => {
                Reply::Time(self.read_attempt(attempt, false, now, |a| a.start)?)
            }
            Op::AttemptEndTime { attempt } => {
                Reply::MaybeTime(self.read_attempt(attempt, true, now, |a| a.end)?)
            }
            Op::AttemptExpiration { attempt } => {
                Reply::Time(self.read_attempt(attempt, true, now, |a| a.expiration)?)
            }
            Op::Renew {
                attempt,
                extend,
                data,
            } => {
                self.renew(attempt, extend, data, now)?;
                Reply::Done
            }
            Op::Expire { attempt, data } => {
                self.expire(attempt, data, now)?;
                Reply::Done
            }
            Op::Finish { attempt, data } => {
                self.finish(attempt, data, now)?;
                Reply::Done
            }
            Op::Fail { attempt, data } => {
                self.fail(attempt, data, now)?;
                Reply::Done
            }
            Op::Retry {
                attempt,
                data,
                delay,
            } => {
                self.retry(attempt, data, delay, now)?;
                Reply::Done
            }

            // ---- Worker ----
            Op::WorkerParent { worker } => {
                Reply::Worker(self.worker(worker)?.parent.and_then(|p| self.worker_ref(p)))
            }
            Op::SetParent { worker, parent } => {
                self.set_parent(worker, parent)?;
                Reply::Done
            }
            Op::Children { worker } => {
                let mut children: Vec<_> = self
                    .worker(worker)?
                    .children
                    .iter()
                    .filter_map(|&c| self.worker_ref(c))
                    .collect();
                children.sort_by(|a, b| a.name.cmp(&b.name));
                Reply::Workers(children)
            }
            Op::WorkerActive { worker } => Reply::Bool(self.worker(worker)?.active),
            Op::Deactivate { worker } => {
                self.worker_mut(worker)?.active = false;
                Reply::Done
            }
            Op::WorkerMode { worker } => Reply::Text(self.worker(worker)?.mode.clone()),
            Op::WorkerData { worker } => Reply::Data(self.worker(worker)?.data.clone()),
            Op::WorkerExpiration { worker } => Reply::Time(self.worker(worker)?.expiration),
            Op::WorkerLastUpdate { worker } => Reply::Time(self.worker(worker)?.last_update),
            Op::UpdateWorker {
                worker,
                data,
                now: reported,
                expiration,
                mode,
            } => {
                let w = self.worker_mut(worker)?;
                w.active = true;
                w.data = data;
                w.last_update = reported;
                w.expiration = expiration;
                w.mode = mode;
                Reply::Done
            }
            Op::RequestAttempts { worker, request } => {
                let ids = self.request(worker, &request, now)?;
                Reply::Attempts(self.attempt_refs(ids))
            }
            Op::MakeAttempt {
                worker,
                unit,
                lifetime,
            } => {
                let id = self.make_attempt(worker, unit, lifetime, now)?;
                Reply::Attempt(Some(self.attempt_ref(id).ok_or(Error::Gone)?))
            }
            Op::ActiveAttempts { worker } => {
                let ids = sorted(&self.worker(worker)?.active_attempts);
                Reply::Attempts(self.attempt_refs(ids))
            }
            Op::AllAttempts { worker } => {
                let ids = self.all_attempts(worker)?;
                Reply::Attempts(self.attempt_refs(ids))
            }
            Op::ChildAttempts { worker } => {
                let mut children: Vec<&WorkerState> = self
                    .worker(worker)?
                    .children
                    .iter()
                    .filter_map(|c| self.workers.get(c))
                    .collect();
                children.sort_by(|a, b| a.name.cmp(&b.name));
                let ids: Vec<Id> = children
                    .iter()
                    .flat_map(|c| sorted(&c.active_attempts))
                    .collect();
                Reply::Attempts(self.attempt_refs(ids))
            }
        })
    }

    /// The namespace called `name`, created if absent.
    fn namespace(&mut self, name: &str) -> Id {
        if let Some(&id) = self.ns_by_name.get(name) {
            return id;
        }
        let id = self.fresh_id();
        let name: Arc<str> = Arc::from(name);
        self.namespaces.insert(
            id,
            NsState {
                name: name.clone(),
                specs: Default::default(),
                workers: Default::default(),
            },
        );
        self.ns_by_name.insert(name, id);
        id
    }

    fn spec_named(&self, ns: Id, name: &str) -> Result<Id> {
        self.ns(ns)?
            .specs
            .get(name)
            .copied()
            .ok_or_else(|| Error::NoSuchWorkSpec { name: name.into() })
    }

    /// The worker called `name`, created (active, expiring after the default
    /// lease) if absent.
    fn worker_named(&mut self, ns: Id, name: &str, now: Time) -> Result<Id> {
        if let Some(&id) = self.ns(ns)?.workers.get(name) {
            return Ok(id);
        }
        let id = self.fresh_id();
        let key: Arc<str> = Arc::from(name);
        self.workers.insert(
            id,
            WorkerState {
                ns,
                name: key.clone(),
                parent: None,
                children: Default::default(),
                active: true,
                mode: String::new(),
                data: Map::new(),
                expiration: add(now, DEFAULT_LEASE),
                last_update: now,
                active_attempts: Default::default(),
                all_attempts: Vec::new(),
            },
        );
        self.namespaces
            .get_mut(&ns)
            .ok_or(Error::Gone)?
            .workers
            .insert(key, id);
        Ok(id)
    }

    /// Reads an attempt, sweeping its spec first when the field depends on
    /// expiry (status, end time, expiration).
    fn read_attempt<T>(
        &mut self,
        id: Id,
        sweep: bool,
        now: Time,
        f: impl FnOnce(&AttemptState) -> T,
    ) -> Result<T> {
        let spec = self.attempt(id)?.spec;
        if sweep {
            self.sweep(spec, now);
        }
        Ok(f(self.attempt(id)?))
    }

    /// Starts an attempt on a unit regardless of its state, spec limits or
    /// retries.
    fn make_attempt(
        &mut self,
        worker: Id,
        unit: UnitId,
        lifetime: chrono::TimeDelta,
        now: Time,
    ) -> Result<Id> {
        self.worker(worker)?;
        let (slot, _) = self.unit(unit)?;
        let (id, _) = self.start_attempt(unit.spec, slot, worker, rules::lease(lifetime), now)?;
        Ok(id)
    }
}

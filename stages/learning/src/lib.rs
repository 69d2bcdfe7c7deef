//! The learning stage: five small learners fed by every `position.closed`, proposing policy
//! changes to risk.
//!
//! - Thread: a cold stage; shares a backoff thread with other cold stages.
//! - Input: `position.closed` (from position). Other kinds are counted and ignored.
//! - Output: `internal.policy_update` (to risk: `SIZING_MULTIPLIER`, `MODEL_WEIGHT`,
//!   `MODEL_ALLOWED`), `model.drift_detected`, `model.promoted`, and `risk.alert`
//!   (`MODEL_DEGRADED`, MEDIUM, `RETRAIN_REQUESTED`). Every output carries the header of the
//!   `position.closed` that caused it ([`tradeflow_core::Header::derived`]), so the trace id
//!   flows on.
//! - Learners: [`sizing`] (full-information bandit over multipliers), [`meta`] (Beta posterior
//!   per model and market condition), [`supervisor`] (rolling windows), [`drift`] (two-sided
//!   Page-Hinkley on win − confidence), [`clm`] (Welch's t, challenger vs incumbent).
//!   Learners propose; multipliers are clamped to the configured hard bounds, and RiskGuard's
//!   hard limits always win.
//! - Latency budget: a few µs per outcome (O(models) for the meta agent's best-model scan,
//!   O(window) for the supervisor); outcomes arrive at most at the trade rate.
//! - Allocation: every table is sized by the catalog's number of models in
//!   [`LearningStage::try_new`]; `on_event` neither allocates, locks nor logs.

#![forbid(unsafe_code)]

pub mod clm;
pub mod config;
pub mod drift;
pub mod meta;
pub mod sizing;
mod stage;
pub mod supervisor;

pub use config::{
    ChallengerPair, ClmConfig, DriftConfig, LearningConfig, MetaConfig, SizingConfig, SupervisorConfig, MAX_ARMS,
    MAX_WINDOW,
};
pub use stage::{LearningError, LearningStage, LearningStats};

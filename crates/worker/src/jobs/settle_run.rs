//! Closing a run: both job kinds may do the last piece of a run's work (the
//! last customer's download failing for good, or the last range
//! completing), so whichever does asks here whether the run is done.

use std::sync::Arc;

use reporter_core::models::pipeline;
use tracing::info;

use crate::environment::Environment;

/// Finishes the run if nothing of it is left to do (idempotent: the update
/// is conditional, so two jobs finishing together close it once).
pub(crate) async fn finish_if_done(env: &Arc<Environment>, run_id: i64) -> anyhow::Result<()> {
    if let Some(status) = env
        .db(move |c| pipeline::finish_run_if_done(c, run_id))
        .await?
    {
        info!(run.id = run_id, %status, "run finished");
    }
    Ok(())
}

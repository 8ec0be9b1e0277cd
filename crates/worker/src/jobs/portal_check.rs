//! portal-check: the API's portal check (`POST
//! /api/reporter/admin/portal-check/`) run on a worker, where the browsers
//! are: `running`, then the report stored as `done` under the check's id
//! (see `reporter_core::portal_checks`). A check that cannot start (unknown
//! email, no browser free in time) is `done` too, with its error.

use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::{BoxDynError, Data};
use reporter_core::jobs::{Job, PortalCheck};
use reporter_core::portal_checks::{self, CheckStatus, StoredCheck};
use tracing::{info, warn};

use crate::environment::Environment;
use crate::portal_check::{self, PortalCheckReport};

/// How long the job waits for a browser lease before giving up with a
/// report saying none was free.
pub const LEASE_WAIT: Duration = Duration::from_secs(600);

pub async fn run(job: PortalCheck, env: Data<Arc<Environment>>) -> Result<(), BoxDynError> {
    let env: Arc<Environment> = (*env).clone();
    let key = format!("portal-check:{}", job.check_id);
    env.doing(&key, format!("comprobando el portal de {}", job.email));
    let r = handle(&env, &job, &key).await;
    env.done(&key);
    super::count_outcome(PortalCheck::KIND, r.is_ok());
    r.map_err(|e| super::abort("portal-check", e))
}

async fn handle(env: &Arc<Environment>, job: &PortalCheck, key: &str) -> anyhow::Result<()> {
    let prefix = env.settings.redis_prefix.clone();
    let mut conn = env.redis.clone();
    let save = |status: CheckStatus, report: Option<&PortalCheckReport>| StoredCheck {
        status,
        email: job.email.clone(),
        report: report.and_then(|r| serde_json::to_value(r).ok()),
    };
    portal_checks::store(
        &mut conn,
        &prefix,
        &job.check_id,
        &save(CheckStatus::Running, None),
    )
    .await?;
    let (settings, email) = (env.settings.clone(), job.email.clone());
    let target = env
        .db(move |c| {
            Ok(portal_check::target(
                c,
                settings.credentials_cipher(),
                &email,
            ))
        })
        .await?;
    let profile_name = reporter_worker_profile_name(env);
    let report = match target {
        Err(e) => PortalCheckReport::failed(
            &job.email,
            &profile_name,
            &env.settings.portal_url,
            e.to_string(),
        ),
        Ok(t) => match portal_check::check_with_lease(
            &env.semaphore,
            env.portal.as_ref(),
            &env.settings,
            &env.worker_id,
            key,
            &t,
            LEASE_WAIT,
        )
        .await
        {
            Ok(r) => r,
            Err(e) => PortalCheckReport::failed(
                &job.email,
                &profile_name,
                &env.settings.portal_url,
                e.to_string(),
            ),
        },
    };
    if report.ok {
        info!(check = %job.check_id, email = %job.email, "portal check passed");
    } else {
        warn!(check = %job.check_id, email = %job.email, error = ?report.error, misses = report.misses().count(), "portal check failed");
    }
    portal_checks::store(
        &mut conn,
        &prefix,
        &job.check_id,
        &save(CheckStatus::Done, Some(&report)),
    )
    .await?;
    Ok(())
}

fn reporter_worker_profile_name(env: &Environment) -> String {
    crate::portal::webdriver::Profile::load(env.settings.portal_profile.as_deref())
        .map(|p| p.name)
        .unwrap_or_default()
}

//! Times `Authorizer::check` with the default rules and 1,000 user bindings, cold and
//! warm, and with every check a cache miss (casbin's own cost).
//!
//! `cargo run --release -p verity-policy --example enforce_bench`

use std::time::Instant;

use verity_policy::{Action, Authorizer, Object, Role, Rule, Sensitivity, Subject, default_rules};

const USERS: usize = 1_000;
const PROJECTS: usize = 50;
const CHECKS: usize = 100_000;

#[tokio::main(flavor = "current_thread")]
async fn main() -> verity_policy::Result<()> {
    let mut rules = default_rules();
    for i in 0..USERS {
        let role = Role::PROJECT_ROLES[i % Role::PROJECT_ROLES.len()];
        rules.push(Rule::binding(
            &format!("user{i}"),
            role,
            &format!("project{}", i % PROJECTS),
        ));
    }
    rules.push(Rule::binding("root", Role::Admin, "*"));
    let started = Instant::now();
    let authz = Authorizer::new(&rules).await?;
    println!(
        "built the enforcer over {} rules in {:?}",
        rules.len(),
        started.elapsed()
    );

    let subjects: Vec<Subject> = (0..USERS)
        .map(|i| Subject {
            name: format!("user{i}"),
            clearance: Sensitivity::ALL[i % 4],
        })
        .collect();
    let projects: Vec<String> = (0..PROJECTS).map(|p| format!("project{p}")).collect();
    let objects: Vec<Object> = (0..8)
        .map(|i| Object {
            sensitivity: Sensitivity::ALL[i % 4],
            owner: Some(format!("user{i}")),
        })
        .collect();

    // The first pass fills the decision cache (about half the checks are misses that casbin
    // evaluates); the second is all cache hits.
    for pass in ["first pass (cold cache)", "second pass (warm cache)"] {
        let mut allowed = 0usize;
        let started = Instant::now();
        for n in 0..CHECKS {
            let sub = &subjects[n % USERS];
            // Half the checks in the user's own project, half in another.
            let project = &projects[(n % USERS + (n / USERS) % 2) % PROJECTS];
            let action = Action::ALL[n % Action::ALL.len()];
            if authz.check(sub, project, action, &objects[n % objects.len()])? {
                allowed += 1;
            }
        }
        let elapsed = started.elapsed();
        println!(
            "{pass}: {CHECKS} checks in {elapsed:?}: {:.0} ns/check ({allowed} allowed)",
            elapsed.as_nanos() as f64 / CHECKS as f64
        );
    }

    // Cache misses only: every (user, action) once, after a reload emptied the cache.
    authz.reload(&rules).await?;
    let mut misses = 0usize;
    let started = Instant::now();
    for (i, sub) in subjects.iter().enumerate() {
        for action in Action::ALL {
            authz.check(
                sub,
                &projects[i % PROJECTS],
                *action,
                &objects[i % objects.len()],
            )?;
            misses += 1;
        }
    }
    let elapsed = started.elapsed();
    println!(
        "uncached (casbin evaluates every check): {misses} checks in {elapsed:?}: {:.0} ns/check",
        elapsed.as_nanos() as f64 / misses as f64
    );
    Ok(())
}

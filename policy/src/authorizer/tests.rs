use super::*;
use crate::error::Error;
use crate::model::Sensitivity::{Confidential, Internal, Public, Restricted};
use crate::model::default_permissions;

fn subject(name: &str, clearance: Sensitivity) -> Subject {
    Subject {
        name: name.to_owned(),
        clearance,
    }
}

fn dataset(sensitivity: Sensitivity) -> Object {
    Object {
        sensitivity,
        owner: None,
    }
}

fn run_of(owner: &str) -> Object {
    Object {
        sensitivity: Public,
        owner: Some(owner.to_owned()),
    }
}

fn rules_with(bindings: &[(&str, Role, &str)]) -> Vec<Rule> {
    let mut rules = default_rules();
    rules.extend(bindings.iter().map(|(u, r, d)| Rule::binding(u, *r, d)));
    rules
}

async fn authorizer(bindings: &[(&str, Role, &str)]) -> Result<Authorizer> {
    Authorizer::new(&rules_with(bindings)).await
}

#[tokio::test]
async fn admin_in_the_global_domain_passes_in_every_project() -> Result<()> {
    let authz = authorizer(&[("root", Role::Admin, "*")]).await?;
    let root = subject("root", Restricted);
    for project in ["a", "b", "never-seen"] {
        for action in Action::ALL {
            assert!(
                authz.check(&root, project, *action, &run_of("someone"))?,
                "{action} in {project}"
            );
        }
    }
    assert!(authz.is_admin("root"));
    assert_eq!(authz.roles("root", "*"), vec![Role::Admin]);
    assert!(authz.roles("root", "a").is_empty());
    Ok(())
}

#[tokio::test]
async fn admin_is_still_bound_by_clearance_on_raw_data_only() -> Result<()> {
    let authz = authorizer(&[("root", Role::Admin, "*")]).await?;
    let root = subject("root", Internal);
    let secret = dataset(Confidential);
    assert!(!authz.check(&root, "a", Action::DatasetReadData, &secret)?);
    assert!(authz.check(&root, "a", Action::DatasetReadData, &dataset(Internal))?);
    // Clearance only counts for raw data: metadata and writes are not limited by it.
    assert!(authz.check(&root, "a", Action::DatasetRead, &secret)?);
    assert!(authz.check(&root, "a", Action::DatasetWrite, &secret)?);
    Ok(())
}

#[tokio::test]
async fn project_roles_stay_in_their_project() -> Result<()> {
    let authz = authorizer(&[("vera", Role::Viewer, "a")]).await?;
    let vera = subject("vera", Public);
    let obj = Object::public();
    assert!(authz.check(&vera, "a", Action::ProjectRead, &obj)?);
    assert!(authz.check(&vera, "a", Action::RunRead, &obj)?);
    assert!(!authz.check(&vera, "a", Action::RunCreate, &obj)?);
    assert!(!authz.check(&vera, "b", Action::ProjectRead, &obj)?);
    assert!(!authz.check(&vera, "*", Action::ProjectRead, &obj)?);
    assert!(!authz.check(&vera, "a", Action::ProjectCreate, &obj)?);
    assert!(!authz.is_admin("vera"));
    assert_eq!(authz.roles("vera", "a"), vec![Role::Viewer]);
    assert!(authz.roles("vera", "b").is_empty());
    assert!(authz.roles("nobody", "a").is_empty());
    Ok(())
}

#[tokio::test]
async fn a_role_bound_globally_applies_in_every_project() -> Result<()> {
    let authz = authorizer(&[("ann", Role::Auditor, "*")]).await?;
    let ann = subject("ann", Public);
    assert!(authz.check(&ann, "a", Action::AuditRead, &Object::public())?);
    assert!(authz.check(&ann, "z", Action::RunRead, &Object::public())?);
    assert!(!authz.check(&ann, "z", Action::AuditReadAll, &Object::public())?);
    assert!(!authz.check(&ann, "z", Action::RunWrite, &Object::public())?);
    Ok(())
}

#[tokio::test]
async fn clearance_limits_raw_data() -> Result<()> {
    let authz = authorizer(&[("vera", Role::Viewer, "a")]).await?;
    let vera = subject("vera", Internal);
    assert!(authz.check(&vera, "a", Action::DatasetReadData, &dataset(Public))?);
    assert!(authz.check(&vera, "a", Action::DatasetReadData, &dataset(Internal))?);
    assert!(!authz.check(&vera, "a", Action::DatasetReadData, &dataset(Confidential))?);
    assert!(!authz.check(&vera, "a", Action::DatasetReadData, &dataset(Restricted))?);
    assert!(authz.check(&vera, "a", Action::DatasetRead, &dataset(Restricted))?);
    // Reports carry histograms and category counts: the same clearance applies.
    assert!(authz.check(&vera, "a", Action::ReportRead, &dataset(Internal))?);
    assert!(!authz.check(&vera, "a", Action::ReportRead, &dataset(Confidential))?);
    assert!(authz.check(&vera, "a", Action::MonitorRead, &dataset(Restricted))?);
    assert!(!authz.check(&vera, "a", Action::CheckRun, &dataset(Public))?);
    Ok(())
}

#[tokio::test]
async fn owner_condition() -> Result<()> {
    let authz = authorizer(&[
        ("carl", Role::Contributor, "a"),
        ("mia", Role::Maintainer, "a"),
    ])
    .await?;
    let carl = subject("carl", Public);
    let mia = subject("mia", Public);
    for action in [Action::RunWrite, Action::RunDelete] {
        assert!(authz.check(&carl, "a", action, &run_of("carl"))?);
        assert!(!authz.check(&carl, "a", action, &run_of("mia"))?);
        assert!(!authz.check(&carl, "a", action, &Object::public())?);
        assert!(authz.check(&mia, "a", action, &run_of("carl"))?);
        assert!(authz.check(&mia, "a", action, &Object::public())?);
    }
    assert!(authz.check(&carl, "a", Action::RunCreate, &Object::public())?);
    assert!(!authz.check(&carl, "a", Action::AliasWrite, &Object::public())?);
    assert!(authz.check(&mia, "a", Action::AliasWrite, &Object::public())?);
    // An empty owner never matches, even a subject with an empty name.
    let nameless = subject("", Public);
    let unowned = run_of("");
    assert!(!authz.check(&nameless, "a", Action::RunWrite, &unowned)?);
    Ok(())
}

#[tokio::test]
async fn users_named_like_roles_get_nothing() -> Result<()> {
    // casbin links every name to itself; user names are prefixed so "admin" is not the role.
    let authz = authorizer(&[("viewer", Role::Viewer, "a")]).await?;
    let admin = subject("admin", Restricted);
    assert!(!authz.is_admin("admin"));
    assert!(!authz.check(&admin, "a", Action::ProjectRead, &Object::public())?);
    assert!(!authz.check(&admin, "*", Action::UserManage, &Object::public())?);
    let viewer = subject("viewer", Public);
    assert!(!authz.check(&viewer, "b", Action::ProjectRead, &Object::public())?);
    assert!(authz.check(&viewer, "a", Action::ProjectRead, &Object::public())?);
    Ok(())
}

#[tokio::test]
async fn global_actions_use_the_global_domain() -> Result<()> {
    let authz = authorizer(&[("root", Role::Admin, "*"), ("olga", Role::Owner, "a")]).await?;
    let olga = subject("olga", Restricted);
    let root = subject("root", Public);
    for action in Action::ALL.iter().filter(|a| a.is_global()) {
        assert!(
            !authz.check(&olga, "a", *action, &Object::public())?,
            "{action}"
        );
        assert!(
            authz.check(&root, "a", *action, &Object::public())?,
            "{action}"
        );
        assert!(
            authz.check(&root, "", *action, &Object::public())?,
            "{action}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn every_project_role_matches_the_table() -> Result<()> {
    let perms = default_permissions();
    let mut bindings = Vec::new();
    let names: Vec<String> = Role::PROJECT_ROLES
        .iter()
        .map(|r| format!("u-{r}"))
        .collect();
    for (role, name) in Role::PROJECT_ROLES.iter().zip(&names) {
        bindings.push((name.as_str(), *role, "p"));
    }
    let authz = authorizer(&bindings).await?;
    for (role, name) in Role::PROJECT_ROLES.iter().zip(&names) {
        let sub = subject(name, Restricted);
        for action in Action::ALL {
            let granted = perms
                .iter()
                .any(|p| p.role == *role && p.action == action.as_str());
            let own = run_of(name);
            assert_eq!(
                authz.check(&sub, "p", *action, &own)?,
                granted,
                "{role} {action}"
            );
        }
    }
    Ok(())
}

#[tokio::test]
async fn reload_takes_effect() -> Result<()> {
    let authz = authorizer(&[("vera", Role::Viewer, "a"), ("carl", Role::Viewer, "a")]).await?;
    let vera = subject("vera", Public);
    assert!(authz.check(&vera, "a", Action::RunRead, &Object::public())?);
    authz
        .reload(&rules_with(&[("carl", Role::Viewer, "a")]))
        .await?;
    assert!(!authz.check(&vera, "a", Action::RunRead, &Object::public())?);
    assert!(authz.roles("vera", "a").is_empty());
    let carl = subject("carl", Public);
    assert!(authz.check(&carl, "a", Action::RunRead, &Object::public())?);
    authz
        .reload(&rules_with(&[("vera", Role::Admin, "*")]))
        .await?;
    assert!(authz.is_admin("vera"));
    assert!(authz.check(&vera, "b", Action::RunDelete, &Object::public())?);
    Ok(())
}

#[tokio::test]
async fn invalid_rules_are_rejected_and_keep_the_old_rules() -> Result<()> {
    let authz = authorizer(&[("vera", Role::Viewer, "a")]).await?;
    let bad = [
        Rule::binding("vera", Role::Viewer, ""),
        Rule::binding("", Role::Viewer, "a"),
        Rule {
            ptype: "p".into(),
            v0: "viewer".into(),
            v1: "run.fly".into(),
            v2: String::new(),
        },
        Rule {
            ptype: "p".into(),
            v0: "wizard".into(),
            v1: "*".into(),
            v2: String::new(),
        },
        Rule {
            ptype: "p".into(),
            v0: "viewer".into(),
            v1: "*".into(),
            v2: "sometimes".into(),
        },
        Rule {
            ptype: "x".into(),
            v0: String::new(),
            v1: String::new(),
            v2: String::new(),
        },
    ];
    for rule in bad {
        let err = authz.reload(std::slice::from_ref(&rule)).await.err();
        assert_eq!(
            err.map(|e| e.kind()),
            Some(crate::ErrorKind::InvalidArgument),
            "{rule:?}"
        );
    }
    assert!(authz.check(
        &subject("vera", Public),
        "a",
        Action::RunRead,
        &Object::public()
    )?);
    // Duplicate rules are fine.
    let mut dup = rules_with(&[("vera", Role::Viewer, "a")]);
    dup.extend(rules_with(&[("vera", Role::Viewer, "a")]));
    authz.reload(&dup).await?;
    Ok(())
}

#[tokio::test]
async fn many_checks_and_concurrent_reloads() -> Result<()> {
    let mut bindings = Vec::new();
    let names: Vec<String> = (0..200).map(|i| format!("user{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        let role = Role::PROJECT_ROLES[i % Role::PROJECT_ROLES.len()];
        bindings.push((
            name.as_str(),
            role,
            if i.is_multiple_of(2) { "a" } else { "b" },
        ));
    }
    let authz = Arc::new(authorizer(&bindings).await?);
    let rules = rules_with(&bindings);
    let reloader = {
        let authz = Arc::clone(&authz);
        tokio::spawn(async move {
            for _ in 0..5 {
                authz.reload(&rules).await?;
            }
            Ok::<_, Error>(())
        })
    };
    let mut allowed = 0;
    for (i, name) in names.iter().enumerate() {
        let sub = subject(name, Internal);
        for action in Action::ALL {
            for project in ["a", "b"] {
                if authz.check(&sub, project, *action, &run_of(name))? {
                    allowed += 1;
                    assert_eq!(
                        project == "a",
                        i.is_multiple_of(2),
                        "{name} {action} {project}"
                    );
                }
            }
        }
    }
    reloader
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
    assert!(allowed > 1000, "{allowed}");
    Ok(())
}

#[tokio::test]
async fn decisions_are_cached_per_key_and_dropped_on_reload() -> Result<()> {
    let authz = authorizer(&[("carl", Role::Contributor, "a")]).await?;
    let carl = subject("carl", Internal);
    let cached = |authz: &Authorizer| authz.snapshot().decisions.len();
    assert!(authz.check(&carl, "a", Action::RunWrite, &run_of("carl"))?);
    assert!(!authz.check(&carl, "a", Action::RunWrite, &run_of("mia"))?);
    // Another non-owner and another sensitivity share the key: owner and sensitivity only
    // count as "owns" and for raw data.
    assert!(!authz.check(&carl, "a", Action::RunWrite, &run_of("zoe"))?);
    let secret_run = Object {
        sensitivity: Restricted,
        owner: Some("carl".into()),
    };
    assert!(authz.check(&carl, "a", Action::RunWrite, &secret_run)?);
    assert_eq!(cached(&authz), 2);
    // Raw data keys keep the sensitivity.
    assert!(authz.check(&carl, "a", Action::DatasetReadData, &dataset(Internal))?);
    assert!(!authz.check(&carl, "a", Action::DatasetReadData, &dataset(Restricted))?);
    assert!(authz.check(&carl, "a", Action::DatasetReadData, &dataset(Internal))?);
    assert_eq!(cached(&authz), 4);
    authz.reload(&rules_with(&[])).await?;
    assert_eq!(cached(&authz), 0);
    assert!(!authz.check(&carl, "a", Action::RunWrite, &run_of("carl"))?);
    Ok(())
}

#[test]
fn a_full_cache_starts_over() {
    let decisions = Decisions::default();
    let key = |i: usize| Key {
        name: format!("user{i}"),
        clearance: 0,
        domain: "a".into(),
        action: Action::RunRead,
        sensitivity: 0,
        owns: false,
    };
    for i in 0..cache::MAX_ENTRIES {
        decisions.insert(key(i), true);
    }
    assert_eq!(decisions.len(), cache::MAX_ENTRIES);
    decisions.insert(key(cache::MAX_ENTRIES), false);
    assert_eq!(decisions.len(), 1);
    assert_eq!(decisions.get(&key(cache::MAX_ENTRIES)), Some(false));
    assert_eq!(decisions.get(&key(0)), None);
}

#[test]
fn the_cache_is_bounded_in_bytes() {
    let decisions = Decisions::default();
    let long = "p".repeat(64 * 1024);
    let key = |i: usize| Key {
        name: "carl".into(),
        clearance: 1,
        domain: format!("{long}{i}"),
        action: Action::RunRead,
        sensitivity: 0,
        owns: i.is_multiple_of(2),
    };
    // 1000 keys of ~64 KB each would hold ~64 MB without the byte bound.
    for i in 0..1000 {
        decisions.insert(key(i), i.is_multiple_of(3));
        assert!(
            decisions.bytes() <= cache::MAX_BYTES,
            "{}",
            decisions.bytes()
        );
    }
    assert!(decisions.len() < 1000);
    // The newest decisions are still remembered, correctly; re-inserting one counts once.
    let held = decisions.bytes();
    for i in 990..1000 {
        assert_eq!(decisions.get(&key(i)), Some(i.is_multiple_of(3)), "{i}");
    }
    decisions.insert(key(999), false);
    assert_eq!(decisions.get(&key(999)), Some(false));
    assert_eq!(decisions.bytes(), held);
    // Short keys fit again, and a key bigger than the bound on its own is not remembered.
    let short = Key {
        domain: "a".into(),
        ..key(0)
    };
    decisions.insert(short.clone(), true);
    assert_eq!(decisions.get(&short), Some(true));
    let huge = Key {
        domain: "p".repeat(cache::MAX_BYTES + 1),
        ..key(0)
    };
    decisions.insert(huge.clone(), true);
    assert_eq!(decisions.get(&huge), None);
    assert!(decisions.bytes() <= cache::MAX_BYTES);
}

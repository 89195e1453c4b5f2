//! The Settings page: your password and API tokens; for a workspace's admins its members,
//! invitations, which providers it may run and its audit log; for server admins every account.
//! In local mode only the audit log is there (one user, no accounts).

use leptos::prelude::*;
use leptos_meta::Title;
use rowbench_workbench::accounts::{MemberView, TokenView};
use rowbench_workbench::actor::Role;
use rowbench_workbench::administration::{UserView, WorkspaceSettings};
use rowbench_workbench::audit::AuditEntry;
use rowbench_workbench::invites::InviteView;

use crate::api::settings::{
    ChangePassword, InviteMember, SettingsView, create_api_token, load_settings,
    remove_workspace_member, revoke_api_token, set_account_disabled, set_member_role,
    set_workspace_providers, withdraw_invite,
};
use crate::components::notice::ErrorNotice;

/// What a page section's last action said: done (with a message) or refused.
type Outcome = RwSignal<Option<Result<String, String>>>;

/// What the sections say after an action, kept by the page: an action reloads the settings,
/// which renders the sections anew, and a token or link shown once must survive that.
#[derive(Clone, Copy)]
struct Kept {
    new_token: RwSignal<Option<String>>,
    tokens: Outcome,
    invite_link: RwSignal<Option<String>>,
    invites: Outcome,
    members: Outcome,
    providers: Outcome,
    users: Outcome,
}

impl Kept {
    fn new() -> Self {
        Kept {
            new_token: RwSignal::new(None),
            tokens: RwSignal::new(None),
            invite_link: RwSignal::new(None),
            invites: RwSignal::new(None),
            members: RwSignal::new(None),
            providers: RwSignal::new(None),
            users: RwSignal::new(None),
        }
    }
}

#[component]
fn OutcomeLine(outcome: Outcome) -> impl IntoView {
    move || match outcome.get() {
        Some(Ok(message)) => view! {
            <p class="field__help" role="status">
                {message}
            </p>
        }
        .into_any(),
        Some(Err(message)) => view! {
            <p class="field__error" role="alert">
                {message}
            </p>
        }
        .into_any(),
        None => ().into_any(),
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let settings = Resource::new(|| (), |_| load_settings());
    let reload = move || settings.refetch();
    let kept = Kept::new();
    view! {
        <Title text="Settings" />
        <div class="page-header">
            <div>
                <h1>"Settings"</h1>
                <p class="lead">
                    "Your account and API tokens, and for admins the workspace's members, providers and audit log."
                </p>
            </div>
        </div>
        <Transition fallback=|| {
            view! {
                <div class="card skeleton" aria-busy="true">
                    "Loading settings…"
                </div>
            }
        }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(view) => view! { <SettingsSections view kept reload /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn SettingsSections(
    view: SettingsView,
    kept: Kept,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let SettingsView {
        account,
        tokens,
        members,
        invites,
        workspace,
        audit,
        users,
    } = view;
    let team = account.is_some();
    let me = account
        .as_ref()
        .map(|a| a.email.clone())
        .unwrap_or_default();
    view! {
        <div class="settings">
            {(!team)
                .then(|| {
                    view! {
                        <section class="card settings__section">
                            <h2 class="section-title">"Local mode"</h2>
                            <p class="muted">
                                "This Rowbench has one user and no accounts. Team mode (ROWBENCH_MODE=team) adds accounts, workspaces, roles and API tokens; the README says how."
                            </p>
                        </section>
                    }
                })}
            {team
                .then(|| {
                    view! {
                        <PasswordSection />
                        <TokensSection tokens kept reload />
                    }
                })}
            {members.map(|members| view! { <MembersSection members me=me.clone() kept reload /> })}
            {invites.map(|invites| view! { <InvitesSection invites kept reload /> })}
            {workspace.map(|workspace| view! { <ProvidersSection workspace kept reload /> })}
            {audit.map(|events| view! { <AuditSection events /> })}
            {users.map(|users| view! { <UsersSection users me kept reload /> })}
        </div>
    }
}

#[component]
fn PasswordSection() -> impl IntoView {
    let save = ServerAction::<ChangePassword>::new();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let outcome: Outcome = RwSignal::new(None);
    Effect::new(move |_| {
        if let Some(result) = save.value().get() {
            outcome.set(Some(match result {
                Ok(()) => {
                    current.set(String::new());
                    new.set(String::new());
                    confirm.set(String::new());
                    Ok("Your password was changed.".to_string())
                }
                Err(error) => Err(error.to_string()),
            }));
        }
    });
    let input = |signal: RwSignal<String>| move |ev| signal.set(event_target_value(&ev));
    view! {
        <section class="card settings__section" data-testid="password">
            <h2 class="section-title">"Password"</h2>
            <form
                class="settings__form"
                on:submit=move |ev| {
                    ev.prevent_default();
                    save.dispatch(ChangePassword {
                        current: current.get_untracked(),
                        new: new.get_untracked(),
                        confirm: confirm.get_untracked(),
                    });
                }
            >
                <label class="field">
                    <span class="field__label">"Current password"</span>
                    <input
                        class="input"
                        type="password"
                        autocomplete="current-password"
                        required
                        prop:value=move || current.get()
                        on:input=input(current)
                    />
                </label>
                <label class="field">
                    <span class="field__label">"New password"</span>
                    <input
                        class="input"
                        type="password"
                        autocomplete="new-password"
                        minlength=rowbench_workbench::accounts::MIN_PASSWORD_CHARS.to_string()
                        required
                        prop:value=move || new.get()
                        on:input=input(new)
                    />
                    <span class="field__help">
                        {format!(
                            "At least {} characters.",
                            rowbench_workbench::accounts::MIN_PASSWORD_CHARS,
                        )}
                    </span>
                </label>
                <label class="field">
                    <span class="field__label">"New password again"</span>
                    <input
                        class="input"
                        type="password"
                        autocomplete="new-password"
                        required
                        prop:value=move || confirm.get()
                        on:input=input(confirm)
                    />
                </label>
                <div>
                    <button class="btn btn--secondary" type="submit">
                        "Change password"
                    </button>
                </div>
                <OutcomeLine outcome />
            </form>
        </section>
    }
}

#[component]
fn TokensSection(
    tokens: Vec<TokenView>,
    kept: Kept,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let made = kept.new_token;
    let outcome = kept.tokens;
    let create = move || {
        let wanted = name.get_untracked();
        leptos::task::spawn_local(async move {
            match create_api_token(wanted).await {
                Ok(token) => {
                    made.set(Some(token));
                    name.set(String::new());
                    outcome.set(None);
                    reload();
                }
                Err(error) => outcome.set(Some(Err(error.to_string()))),
            }
        });
    };
    let revoke = move |id: i64| {
        leptos::task::spawn_local(async move {
            match revoke_api_token(id).await {
                Ok(()) => {
                    outcome.set(Some(Ok("The token was revoked.".to_string())));
                    reload();
                }
                Err(error) => outcome.set(Some(Err(error.to_string()))),
            }
        });
    };
    let empty = tokens.is_empty();
    view! {
        <section class="card settings__section" data-testid="tokens">
            <h2 class="section-title">"API tokens"</h2>
            <p class="muted">
                "A token lets a script use the JSON API as you, in this workspace, with your role: send it as "
                <code>"Authorization: Bearer …"</code> "."
            </p>
            {move || {
                made.get()
                    .map(|token| {
                        view! {
                            <div class="alert alert--info" role="status" data-testid="new-token">
                                <strong class="alert__title">
                                    "Copy the token now: it is shown only this once."
                                </strong>
                                <code class="settings__secret">{token}</code>
                            </div>
                        }
                    })
            }}
            {if empty {
                view! { <p class="muted">"No tokens yet."</p> }.into_any()
            } else {
                view! {
                    <table class="table table--stack">
                        <thead>
                            <tr>
                                <th scope="col">"Name"</th>
                                <th scope="col">"Workspace"</th>
                                <th scope="col">"Created"</th>
                                <th scope="col">"Last used"</th>
                                <th scope="col">
                                    <span class="visually-hidden">"Actions"</span>
                                </th>
                            </tr>
                        </thead>
                        <tbody>
                            {tokens
                                .into_iter()
                                .map(|t| {
                                    let id = t.id;
                                    view! {
                                        <tr>
                                            <td data-label="Name">{t.name}</td>
                                            <td data-label="Workspace">{t.workspace}</td>
                                            <td data-label="Created">{t.created}</td>
                                            <td data-label="Last used">
                                                {t.last_used.unwrap_or_else(|| "never".to_string())}
                                            </td>
                                            <td class="actions">
                                                <button
                                                    type="button"
                                                    class="btn btn--ghost btn--sm btn--danger-text"
                                                    on:click=move |_| revoke(id)
                                                >
                                                    "Revoke"
                                                </button>
                                            </td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                }
                    .into_any()
            }}
            <form
                class="inline-field settings__inline"
                on:submit=move |ev| {
                    ev.prevent_default();
                    create();
                }
            >
                <label class="visually-hidden" for="token-name">
                    "Token name"
                </label>
                <input
                    id="token-name"
                    class="input"
                    placeholder="What the token is for, e.g. nightly export"
                    maxlength="80"
                    required
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                />
                <button class="btn btn--secondary" type="submit">
                    "Create token"
                </button>
            </form>
            <OutcomeLine outcome />
        </section>
    }
}

/// The role picker of the members and invitations forms.
#[component]
fn RoleSelect(
    role: RwSignal<Role>,
    #[prop(optional)] id: Option<&'static str>,
    #[prop(optional)] label: Option<String>,
) -> impl IntoView {
    view! {
        <select
            id=id
            class="select"
            aria-label=label
            on:change=move |ev| {
                if let Some(chosen) = Role::parse(&event_target_value(&ev)) {
                    role.set(chosen);
                }
            }
        >
            {Role::ALL
                .into_iter()
                .map(|r| {
                    view! {
                        <option value=r.name() selected=move || role.get() == r>
                            {format!("{} — {}", r.name(), r.describe())}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}

#[component]
fn MembersSection(
    members: Vec<MemberView>,
    me: String,
    kept: Kept,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let outcome = kept.members;
    view! {
        <section class="card settings__section" data-testid="members">
            <h2 class="section-title">"Members"</h2>
            <table class="table table--stack">
                <thead>
                    <tr>
                        <th scope="col">"Email"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">
                            <span class="visually-hidden">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {members
                        .into_iter()
                        .map(|m| {
                            let myself = m.email == me;
                            let role = RwSignal::new(m.role);
                            let email = m.email.clone();
                            let user_id = m.user_id;
                            let label = format!("Role of {}", m.email);
                            Effect::new(move |previous: Option<Role>| {
                                let now = role.get();
                                if previous.is_some_and(|p| p != now) {
                                    let email = email.clone();
                                    leptos::task::spawn_local(async move {
                                        match set_member_role(email.clone(), now).await {
                                            Ok(()) => {
                                                outcome
                                                    .set(Some(Ok(format!("{email} is now {}.", now.name()))));
                                                reload();
                                            }
                                            Err(error) => outcome.set(Some(Err(error.to_string()))),
                                        }
                                    });
                                }
                                now
                            });
                            let remove = move |_| {
                                leptos::task::spawn_local(async move {
                                    match remove_workspace_member(user_id).await {
                                        Ok(()) => reload(),
                                        Err(error) => outcome.set(Some(Err(error.to_string()))),
                                    }
                                });
                            };
                            view! {
                                <tr data-testid="member">
                                    <td data-label="Email">
                                        {m.email.clone()}
                                        {myself
                                            .then(|| {
                                                view! { <span class="badge badge--muted">"you"</span> }
                                            })}
                                        {m
                                            .disabled
                                            .then(|| {
                                                view! {
                                                    <span class="badge badge--danger">"disabled"</span>
                                                }
                                            })}
                                    </td>
                                    <td data-label="Role">
                                        {if myself {
                                            view! { <span>{m.role.name()}</span> }.into_any()
                                        } else {
                                            view! { <RoleSelect role label /> }.into_any()
                                        }}
                                    </td>
                                    <td class="actions">
                                        {(!myself)
                                            .then(|| {
                                                view! {
                                                    <button
                                                        type="button"
                                                        class="btn btn--ghost btn--sm btn--danger-text"
                                                        on:click=remove
                                                    >
                                                        "Remove"
                                                    </button>
                                                }
                                            })}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <OutcomeLine outcome />
        </section>
    }
}

#[component]
fn InvitesSection(
    invites: Vec<InviteView>,
    kept: Kept,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let invite = ServerAction::<InviteMember>::new();
    let email = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Editor);
    let outcome = kept.invites;
    let link = kept.invite_link;
    Effect::new(move |_| {
        if let Some(result) = invite.value().get() {
            match result {
                Ok(made) => {
                    let origin = window().location().origin().unwrap_or_default();
                    link.set(Some(format!("{origin}{}", made.path)));
                    outcome.set(Some(Ok(format!(
                        "Invited {} as {}; the link works once, until {}.",
                        made.email,
                        made.role.name(),
                        made.expires
                    ))));
                    email.set(String::new());
                    reload();
                }
                Err(error) => {
                    link.set(None);
                    outcome.set(Some(Err(error.to_string())));
                }
            }
        }
    });
    let withdraw = move |id: i64| {
        leptos::task::spawn_local(async move {
            match withdraw_invite(id).await {
                Ok(()) => reload(),
                Err(error) => outcome.set(Some(Err(error.to_string()))),
            }
        });
    };
    view! {
        <section class="card settings__section" data-testid="invites">
            <h2 class="section-title">"Invite someone"</h2>
            <form
                class="settings__form settings__form--row"
                on:submit=move |ev| {
                    ev.prevent_default();
                    invite
                        .dispatch(InviteMember {
                            email: email.get_untracked(),
                            role: role.get_untracked(),
                        });
                }
            >
                <label class="field">
                    <span class="field__label">"Email"</span>
                    <input
                        class="input"
                        type="email"
                        required
                        data-testid="invite-email"
                        prop:value=move || email.get()
                        on:input=move |ev| email.set(event_target_value(&ev))
                    />
                </label>
                <label class="field">
                    <span class="field__label">"Role"</span>
                    <RoleSelect role id="invite-role" />
                </label>
                <div>
                    <button class="btn btn--primary" type="submit" data-testid="invite-send">
                        "Make an invitation link"
                    </button>
                </div>
            </form>
            <OutcomeLine outcome />
            {move || {
                link.get()
                    .map(|url| {
                        view! {
                            <div class="alert alert--info" role="status">
                                <strong class="alert__title">
                                    "Send this link to them; it is shown only now."
                                </strong>
                                <code class="settings__secret" data-testid="invite-link">
                                    {url}
                                </code>
                            </div>
                        }
                    })
            }}
            {(!invites.is_empty())
                .then(|| {
                    view! {
                        <h3 class="settings__subtitle">"Open invitations"</h3>
                        <ul class="settings__list">
                            {invites
                                .into_iter()
                                .map(|i| {
                                    let id = i.id;
                                    view! {
                                        <li>
                                            <span>
                                                {format!(
                                                    "{} as {} — until {}",
                                                    i.email,
                                                    i.role.name(),
                                                    i.expires,
                                                )}
                                            </span>
                                            <button
                                                type="button"
                                                class="btn btn--ghost btn--sm btn--danger-text"
                                                on:click=move |_| withdraw(id)
                                            >
                                                "Withdraw"
                                            </button>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                })}
        </section>
    }
}

#[component]
fn ProvidersSection(
    workspace: WorkspaceSettings,
    kept: Kept,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let all = RwSignal::new(workspace.providers.is_none());
    let chosen = RwSignal::new(workspace.providers.clone().unwrap_or_default());
    let outcome = kept.providers;
    let save = move |_| {
        let (every, list) = (all.get_untracked(), chosen.get_untracked());
        leptos::task::spawn_local(async move {
            match set_workspace_providers(every, list).await {
                Ok(()) => {
                    outcome.set(Some(Ok("Saved.".to_string())));
                    reload();
                }
                Err(error) => outcome.set(Some(Err(error.to_string()))),
            }
        });
    };
    view! {
        <section class="card settings__section" data-testid="providers">
            <h2 class="section-title">{format!("Providers of {}", workspace.name)}</h2>
            <p class="muted">
                "Which configured providers this workspace may run. Their keys stay in the server's configuration; nobody sees them here."
            </p>
            <label class="checkbox">
                <input
                    type="checkbox"
                    prop:checked=move || all.get()
                    on:change=move |ev| all.set(event_target_checked(&ev))
                />
                " Every provider this server has"
            </label>
            <div class="settings__choices" class:is-disabled=move || all.get()>
                {workspace
                    .available
                    .into_iter()
                    .map(|p| {
                        let id = p.id.clone();
                        let checked_id = p.id.clone();
                        view! {
                            <label class="checkbox">
                                <input
                                    type="checkbox"
                                    prop:disabled=move || all.get()
                                    prop:checked=move || {
                                        all.get() || chosen.get().contains(&checked_id)
                                    }
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        let id = id.clone();
                                        chosen
                                            .update(|list| {
                                                list.retain(|p| p != &id);
                                                if on {
                                                    list.push(id);
                                                }
                                            });
                                    }
                                />
                                {format!(" {} ({})", p.label, p.id)}
                            </label>
                        }
                    })
                    .collect_view()}
            </div>
            <div>
                <button type="button" class="btn btn--secondary" on:click=save>
                    "Save providers"
                </button>
            </div>
            <OutcomeLine outcome />
        </section>
    }
}

#[component]
fn AuditSection(events: Vec<AuditEntry>) -> impl IntoView {
    let empty = events.is_empty();
    view! {
        <section class="card settings__section" data-testid="audit">
            <div class="settings__heading">
                <h2 class="section-title">"Audit log"</h2>
                <a
                    class="btn btn--ghost btn--sm"
                    href="/api/workspace/audit?limit=500"
                    download="rowbench-audit.json"
                >
                    "Download as JSON"
                </a>
            </div>
            <p class="muted">
                "Who started, paused, cancelled, retried, deleted or exported which batch, and who changed members, tokens and settings. The latest are here; the JSON has up to 500 at a time."
            </p>
            {if empty {
                view! { <p class="muted">"Nothing has happened yet."</p> }.into_any()
            } else {
                view! {
                    <table class="table table--stack">
                        <thead>
                            <tr>
                                <th scope="col">"When (UTC)"</th>
                                <th scope="col">"Who"</th>
                                <th scope="col">"What"</th>
                                <th scope="col">"Which"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {events
                                .into_iter()
                                .map(|e| {
                                    let which = if e.detail.is_empty() {
                                        e.target
                                    } else {
                                        format!("{} · {}", e.target, e.detail)
                                    };
                                    view! {
                                        <tr data-testid="audit-event">
                                            <td data-label="When">{e.at}</td>
                                            <td data-label="Who">{e.actor}</td>
                                            <td data-label="What">
                                                <code>{e.action}</code>
                                            </td>
                                            <td data-label="Which">{which}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                        </tbody>
                    </table>
                }
                    .into_any()
            }}
        </section>
    }
}

#[component]
fn UsersSection(
    users: Vec<UserView>,
    me: String,
    kept: Kept,
    reload: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let outcome = kept.users;
    let toggle = move |id: i64, disabled: bool| {
        leptos::task::spawn_local(async move {
            match set_account_disabled(id, disabled).await {
                Ok(()) => reload(),
                Err(error) => outcome.set(Some(Err(error.to_string()))),
            }
        });
    };
    view! {
        <section class="card settings__section" data-testid="users">
            <h2 class="section-title">"Accounts on this server"</h2>
            <p class="muted">
                "You are a server admin. A disabled account cannot sign in, and its sessions and tokens stop working at once."
            </p>
            <table class="table table--stack">
                <thead>
                    <tr>
                        <th scope="col">"Email"</th>
                        <th scope="col">"Made"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">
                            <span class="visually-hidden">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {users
                        .into_iter()
                        .map(|u| {
                            let id = u.id;
                            let disabled = u.disabled;
                            let myself = u.email == me;
                            view! {
                                <tr>
                                    <td data-label="Email">
                                        {u.email}
                                        {u
                                            .is_admin
                                            .then(|| {
                                                view! {
                                                    <span class="badge badge--info">"server admin"</span>
                                                }
                                            })}
                                    </td>
                                    <td data-label="Made">{u.created}</td>
                                    <td data-label="State">
                                        {if disabled {
                                            view! {
                                                <span class="badge badge--danger">"disabled"</span>
                                            }
                                                .into_any()
                                        } else {
                                            view! { <span class="badge badge--success">"active"</span> }
                                                .into_any()
                                        }}
                                    </td>
                                    <td class="actions">
                                        {(!myself)
                                            .then(|| {
                                                view! {
                                                    <button
                                                        type="button"
                                                        class="btn btn--ghost btn--sm"
                                                        class:btn--danger-text=!disabled
                                                        on:click=move |_| toggle(id, !disabled)
                                                    >
                                                        {if disabled { "Enable" } else { "Disable" }}
                                                    </button>
                                                }
                                            })}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <OutcomeLine outcome />
        </section>
    }
}

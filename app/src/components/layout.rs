//! The frame around every page: top bar with the product name and navigation, then the page.

use leptos::prelude::*;
use leptos_router::components::A;

use rowbench_workbench::accounts::AccountView;
use rowbench_workbench::actor::Role;

use crate::api::home::current_account;
use crate::components::icons::Logo;

#[component]
pub fn AppLayout(children: Children) -> impl IntoView {
    // Effects run only in the browser, after hydration: the attribute tells end-to-end tests
    // (and anyone curious) that the page is interactive.
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    let account = Resource::new(|| (), |_| current_account());

    view! {
        <a class="skip-link" href="#main">
            "Skip to content"
        </a>
        <header class="topbar">
            <div class="topbar__inner">
                <A href="/" attr:class="brand" attr:aria-label="Rowbench home">
                    <Logo />
                    <span class="brand__name">"Rowbench"</span>
                </A>
                <nav class="nav" aria-label="Main">
                    <A href="/" exact=true attr:class="nav__link">
                        "Batches"
                    </A>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let viewer = matches!(
                                account.await,
                                Ok(Some(ref a))
                                if a.role == Role::Viewer
                            );
                            (!viewer)
                                .then(|| {
                                    view! {
                                        <A href="/new" attr:class="nav__link">
                                            "New batch"
                                        </A>
                                    }
                                })
                        })}
                    </Suspense>
                    <A href="/settings" attr:class="nav__link">
                        "Settings"
                    </A>
                </nav>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match account.await {
                            Ok(Some(account)) => view! { <AccountMenu account /> }.into_any(),
                            Ok(None) => {
                                view! {
                                    <span
                                        class="topbar__mode"
                                        title="Single user on this machine, no login"
                                    >
                                        <span class="dot dot--ok" aria-hidden="true"></span>
                                        "Local mode"
                                    </span>
                                }
                                    .into_any()
                            }
                            Err(_) => ().into_any(),
                        }
                    })}
                </Suspense>
            </div>
        </header>
        <main id="main" class="page" data-hydrated=move || hydrated.get().then_some("true")>
            {children()}
        </main>
        <footer class="footer">
            <span>"Rowbench · runs a model over every row, returns validated results"</span>
        </footer>
    }
}

/// Team mode's corner of the top bar: the workspace switcher (a plain form, so it works before
/// the page is interactive), who is signed in with their role here, and signing out.
#[component]
fn AccountMenu(account: AccountView) -> impl IntoView {
    let current = account.workspace_id;
    let several = account.workspaces.len() > 1;
    let workspace = account.workspace_name().to_string();
    view! {
        <div class="account" data-testid="account">
            {if several {
                view! {
                    <form method="post" action="/workspace" class="account__switch">
                        <label class="visually-hidden" for="workspace-switch">
                            "Workspace"
                        </label>
                        <select
                            id="workspace-switch"
                            name="workspace"
                            class="select select--sm"
                            data-testid="workspace-switch"
                        >
                            {account
                                .workspaces
                                .iter()
                                .map(|w| {
                                    view! {
                                        <option value=w.id.to_string() selected=w.id == current>
                                            {w.name.clone()}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                        <button type="submit" class="btn btn--ghost btn--sm">
                            "Switch"
                        </button>
                    </form>
                }
                    .into_any()
            } else {
                view! {
                    <span class="account__workspace" data-testid="workspace-name">
                        {workspace}
                    </span>
                }
                    .into_any()
            }}
            <span class="account__who" title=account.email.clone()>
                <span class="account__email">{account.email.clone()}</span>
                <span class="badge badge--muted" data-testid="role">
                    {account.role.name()}
                </span>
            </span>
            <form method="post" action="/logout">
                <button type="submit" class="btn btn--ghost btn--sm" data-testid="sign-out">
                    "Sign out"
                </button>
            </form>
        </div>
    }
}

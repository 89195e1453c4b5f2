//! Client-side refreshes of data the server already rendered.
//!
//! A page loads everything its first screen shows through one resource awaited in one
//! `Suspense`; later changes (a filter, new rows finishing) fetch again in the browser through
//! [`refetch_when`]. Nested resources and `Transition`s read during server rendering are what
//! deadlocked the server's reactive graph (issue 12): effects never run on the server, so this
//! keeps server rendering to one resource per page.

use std::future::Future;

/// Calls `fetch` whenever `deps` changes after the first render (not for the value the server
/// rendered), and hands its answer to `apply` unless a newer fetch has started meanwhile, so a
/// slow answer never overwrites a fresher one.
pub fn refetch_when<D, T, Fut>(
    deps: impl Fn() -> D + 'static,
    fetch: impl Fn(D) -> Fut + 'static,
    apply: impl Fn(T) + Clone + 'static,
) where
    D: Clone + PartialEq + 'static,
    T: 'static,
    Fut: Future<Output = T> + 'static,
{
    watch_and_fetch(deps, fetch, apply, false);
}

/// Like [`refetch_when`], and fetches once as soon as the page is live in the browser too: for
/// what is too slow to hold up the server's render.
pub fn fetch_in_browser_when<D, T, Fut>(
    deps: impl Fn() -> D + 'static,
    fetch: impl Fn(D) -> Fut + 'static,
    apply: impl Fn(T) + Clone + 'static,
) where
    D: Clone + PartialEq + 'static,
    T: 'static,
    Fut: Future<Output = T> + 'static,
{
    watch_and_fetch(deps, fetch, apply, true);
}

fn watch_and_fetch<D, T, Fut>(
    deps: impl Fn() -> D + 'static,
    fetch: impl Fn(D) -> Fut + 'static,
    apply: impl Fn(T) + Clone + 'static,
    immediate: bool,
) where
    D: Clone + PartialEq + 'static,
    T: 'static,
    Fut: Future<Output = T> + 'static,
{
    #[cfg(feature = "hydrate")]
    {
        use std::cell::Cell;
        use std::rc::Rc;

        let latest = Rc::new(Cell::new(0u64));
        leptos::prelude::Effect::watch(
            deps,
            move |value: &D, previous: Option<&D>, _| {
                if previous == Some(value) {
                    return;
                }
                let ticket = latest.get() + 1;
                latest.set(ticket);
                let latest = latest.clone();
                let answer = fetch(value.clone());
                let apply = apply.clone();
                leptos::task::spawn_local(async move {
                    let answer = answer.await;
                    if latest.get() == ticket {
                        apply(answer);
                    }
                });
            },
            immediate,
        );
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (deps, fetch, apply, immediate);
    }
}

//! The start-order graph between services: cycle detection and a stable topological order.

use super::{Dep, Model, Service};

/// Edges "a must start before b" as index pairs into `services`.
fn edges(services: &[Service]) -> Vec<(usize, usize)> {
    let index = |name: &str| services.iter().position(|s| s.name == name);
    let mut out = Vec::new();
    for (b, svc) in services.iter().enumerate() {
        for dep in svc.requires.iter().chain(&svc.wants).chain(&svc.after) {
            if let Dep::Service(name) = dep
                && let Some(a) = index(name)
            {
                out.push((a, b));
            }
        }
        for name in &svc.before {
            if let Some(later) = index(name) {
                out.push((b, later));
            }
        }
    }
    out
}

/// A dependency cycle as a list of service names, first repeated at the end
/// (`a → b → a`), or `None`.
pub fn find_cycle(services: &[Service]) -> Option<Vec<String>> {
    let n = services.len();
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (a, b) in edges(services) {
        next[a].push(b);
    }
    // 0 = unvisited, 1 = on the current path, 2 = done
    let mut state = vec![0u8; n];
    let mut path: Vec<usize> = Vec::new();
    for start in 0..n {
        if state[start] == 0
            && let Some(c) = dfs(start, &next, &mut state, &mut path)
        {
            let mut names: Vec<String> = c.iter().map(|&i| services[i].name.clone()).collect();
            names.push(names[0].clone());
            return Some(names);
        }
    }
    None
}

fn dfs(
    v: usize,
    next: &[Vec<usize>],
    state: &mut [u8],
    path: &mut Vec<usize>,
) -> Option<Vec<usize>> {
    state[v] = 1;
    path.push(v);
    for &w in &next[v] {
        if state[w] == 1 {
            let from = path.iter().position(|&p| p == w).unwrap_or(0);
            return Some(path[from..].to_vec());
        }
        if state[w] == 0
            && let Some(c) = dfs(w, next, state, path)
        {
            return Some(c);
        }
    }
    path.pop();
    state[v] = 2;
    None
}

/// Services in dependency order; among services that are free to start, declaration order.
pub fn start_order(model: &Model) -> Vec<&Service> {
    let services = &model.services;
    let n = services.len();
    let mut indegree = vec![0usize; n];
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (a, b) in edges(services) {
        next[a].push(b);
        indegree[b] += 1;
    }
    let mut done = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        // the model is acyclic, so some not-yet-placed service has no pending edge
        let Some(pick) = (0..n).find(|&i| !done[i] && indegree[i] == 0) else {
            break;
        };
        done[pick] = true;
        order.push(&services[pick]);
        for &w in &next[pick] {
            indegree[w] -= 1;
        }
    }
    order
}

//! `workergen validate` on the example fleet.

use crate::util::{example_repo, workergen};

#[test]
fn the_example_environments_validate() {
    let run = workergen(&example_repo(), &["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "2 environments, 4 clusters, 12 workers (1 disabled): ok\n");
}

#[test]
fn the_committed_example_render_is_up_to_date() {
    let run = workergen(&example_repo(), &["check"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

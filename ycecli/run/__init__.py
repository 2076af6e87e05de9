"""How a command's inputs become results: the layers below the facade (ycecli.api).

- types: what the layers hand each other (events, results, jobs, statuses, options);
- session: one account's profile, paths, client and journal;
- naming, plan: default output names; inputs resolved and checked, outputs named,
  before anything is spent;
- pipeline: one task's public steps (upload, prepare, start, poll, finish,
  record_failure, resume);
- scheduler: many tasks at the pace the API's limits allow, through the pipeline;
- runner: one command's inputs from parameters to results, `task wait`, `task resume`.

Arrows point down this list; nothing here imports ycecli.api or the CLI.
"""

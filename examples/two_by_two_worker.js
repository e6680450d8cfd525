#!/usr/bin/env node
// A persistent worker in JavaScript (node): the 2x2 episodic solver of two_by_two.py, in floats.
//
//     pamdp fuzz --worker "node examples/two_by_two_worker.js"
//
// Protocol (docs/VALIDATING.md, "Persistent workers"): one instance document per line on
// standard input, exactly one line per instance on standard output -- a FORMAT.md v1 solution,
// {"unsupported": "reason"} outside the scope (not 2 actions x 2 outcomes, or a cycle), or
// {"error": "message"} if this instance failed.
//
// Backward induction over a topological order (PAPER.md section 2) with the closed-form
// minimal contract of a 2x2 state: to implement a against the other action x, with
// delta = Qbar(x) - Qbar(a) and d = O(a)(o1) - O(x)(o1): delta <= 0 pays nothing, d > 0 pays
// delta / d on o1, d < 0 pays delta / -d on o0, d = 0 cannot implement a.
"use strict";
const readline = require("readline");

const EPS = 1e-12; // float rounding: |delta| below this is an exact tie

function num(v) {
  if (typeof v === "number") return v;
  const s = String(v).trim();
  const i = s.indexOf("/");
  return i < 0 ? Number(s) : Number(s.slice(0, i)) / Number(s.slice(i + 1));
}

function order(children) {
  const mark = new Array(children.length).fill(0); // 0 new, 1 on the stack, 2 done
  const done = [];
  const visit = (s) => {
    if (mark[s] === 2) return;
    if (mark[s] === 1) throw new Error("cycle");
    mark[s] = 1;
    for (const t of children[s]) visit(t);
    mark[s] = 2;
    done.push(s);
  };
  for (let s = 0; s < children.length; s++) visit(s);
  return done;
}

function contract(qbar, probs, a) {
  const x = 1 - a;
  const delta = qbar[x] - qbar[a];
  const d = probs[a][1] - probs[x][1];
  if (delta <= EPS) return [[0, 0], 0];
  if (d > 0) return [[0, delta / d], (probs[a][1] * delta) / d];
  if (d < 0) return [[delta / -d, 0], (probs[a][0] * delta) / -d];
  return null;
}

function solve(doc) {
  const states = doc.states;
  const nA = doc.actions.length;
  const nO = doc.observed_action ? nA : doc.outcomes.length;
  if (nA !== 2 || nO !== 2) {
    return { unsupported: `2 actions and 2 outcomes only (this instance has ${nA} and ${nO})` };
  }
  const index = (t) => (typeof t === "number" ? t : states.indexOf(t));
  const probs = doc.outcome_probs
    ? doc.outcome_probs.map((st) => st.map((row) => row.map(num)))
    : states.map(() => [[1, 0], [0, 1]]);
  const r = doc.agent_reward.map((row) => row.map(num));
  const rp = doc.principal_reward.map((row) => row.map(num));
  const T = doc.transitions.map((row) => row.map((es) => es.map(([t, p]) => [index(t), num(p)])));
  const gamma = num(doc.discount);
  let sorted;
  try {
    sorted = order(T.map((row) => [...new Set(row.flat().map(([t]) => t))]));
  } catch (e) {
    return { unsupported: "episodic (acyclic) instances only" };
  }
  const vp = new Array(states.length).fill(0);
  const va = new Array(states.length).fill(0);
  const policy = new Array(states.length);
  for (const s of sorted) {
    const next = (v, o) => gamma * T[s][o].reduce((acc, [t, p]) => acc + p * v[t], 0);
    const wp = [0, 1].map((o) => rp[s][o] + next(vp, o));
    const wa = [0, 1].map((o) => next(va, o));
    const qbar = [0, 1].map((a) => r[s][a] + probs[s][a][0] * wa[0] + probs[s][a][1] * wa[1]);
    let best = null;
    for (const a of [0, 1]) {
      const c = contract(qbar, probs[s], a);
      if (c === null) continue;
      const q = probs[s][a][0] * wp[0] + probs[s][a][1] * wp[1] - c[1];
      if (best === null || q > best.q + EPS) best = { a, b: c[0], paid: c[1], q };
    }
    vp[s] = best.q;
    va[s] = qbar[best.a] + best.paid;
    policy[s] = {
      state: states[s],
      recommended_action: doc.actions[best.a],
      contract: best.b,
      principal_value: vp[s],
      agent_value: va[s],
    };
  }
  const s0 = states.indexOf(doc.initial_state);
  return {
    format: "pamdp/solution@1",
    instance: doc.name || "",
    policy,
    principal_value: vp[s0],
    agent_value: va[s0],
  };
}

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (!line.trim()) return;
  let answer;
  try {
    answer = solve(JSON.parse(line));
  } catch (e) {
    answer = { error: `${e.name}: ${e.message}` };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
});

// Keeping the user's own formatting through an edit. The yaml package
// writes a document back in its own style (spacing before comments, `[ a ]`
// for `[a]`), so the text to save is a three-way merge by lines:
//   original O, base B = O re-written unedited, edited E = O' re-written.
// Lines that the edit did not touch (B = E there) come from O as the user
// wrote them; only the lines the edit changed come from E.

/** Pairs [i, j] of equal lines of a and b, in order (a longest common subsequence). */
export function commonLines(a: string[], b: string[]): [number, number][] | null {
  let lo = 0;
  while (lo < a.length && lo < b.length && a[lo] === b[lo]) lo++;
  let ha = a.length, hb = b.length;
  while (ha > lo && hb > lo && a[ha - 1] === b[hb - 1]) { ha--; hb--; }
  const n = ha - lo, m = hb - lo;
  if (n * m > 16_000_000) return null;  // too big to align: the caller saves E as it is
  // lcs[i][j] = LCS length of a[lo+i..ha) and b[lo+j..hb), one row at a time from the end.
  const w = m + 1, lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i * w + j] = a[lo + i] === b[lo + j] ? lcs[(i + 1) * w + j + 1] + 1
        : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
  const pairs: [number, number][] = [];
  for (let i = 0; i < lo; i++) pairs.push([i, i]);
  for (let i = 0, j = 0; i < n && j < m;) {
    if (a[lo + i] === b[lo + j]) { pairs.push([lo + i, lo + j]); i++; j++; }
    else if (lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) i++;
    else j++;
  }
  for (let k = 0; k < a.length - ha; k++) pairs.push([ha + k, hb + k]);
  return pairs;
}

/** For each line of B, the lines of O it stands for: a line for a line where the two
 * align (or where a reformatted run has as many lines on both sides), else a whole run. */
function mapBaseToOriginal(o: string[], b: string[]): { start: number; end: number; group: number }[] | null {
  const pairs = commonLines(o, b);
  if (!pairs) return null;
  const map: { start: number; end: number; group: number }[] = new Array(b.length);
  let group = 0, pi = 0, pj = 0;
  const fill = (oi: number, oj: number) => {  // the run O[pi..oi) ↔ B[pj..oj)
    if (oi - pi === oj - pj) for (let k = 0; k < oj - pj; k++) map[pj + k] = { start: pi + k, end: pi + k + 1, group: group++ };
    else { for (let k = pj; k < oj; k++) map[k] = { start: pi, end: oi, group }; group++; }
  };
  for (const [i, j] of pairs) {
    fill(i, j);
    map[j] = { start: i, end: i + 1, group: group++ };
    pi = i + 1; pj = j + 1;
  }
  fill(o.length, b.length);
  return map;
}

export function mergeFormatting(original: string, base: string, edited: string): string {
  if (base === edited) return original;
  const o = original.split("\n"), b = base.split("\n"), e = edited.split("\n");
  const map = mapBaseToOriginal(o, b), kept = commonLines(b, e);
  if (!map || !kept) return edited;
  // A run of B stands for its O lines only if the edit kept all of it.
  const keptB = new Set(kept.map(([j]) => j));
  const whole = new Map<number, boolean>();
  b.forEach((_, j) => whole.set(map[j].group, (whole.get(map[j].group) ?? true) && keptB.has(j)));
  const out: string[] = [];
  const emitted = new Set<number>();
  const keep = (j: number) => {
    const m = map[j];
    if (!whole.get(m.group)) out.push(b[j]);
    else if (!emitted.has(m.group)) { emitted.add(m.group); out.push(...o.slice(m.start, m.end)); }
  };
  let k = 0;
  for (const [bj, ek] of kept) {  // B lines between kept ones were removed by the edit
    for (; k < ek; k++) out.push(e[k]);  // inserted or changed lines
    keep(bj);
    k++;
  }
  for (; k < e.length; k++) out.push(e[k]);
  return out.join("\n");
}

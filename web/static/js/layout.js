// Where every seat of a venue goes, in world units (no DOM): the stage at the top, then the
// sections in the order of their first seat id (the first is nearest the stage), each row
// centred under the stage, rows in the order they were generated (row A nearest the stage).

export const PITCH = 10; // one seat, centre to centre
export const SEAT = 8; // the drawn square
const LABEL = 14; // room for the row letters on both sides
const SECTION_GAP = 30; // includes the section title
const STAGE_H = 22;

function byMinId(groups) {
  return [...groups.values()].sort((a, b) => a.minId - b.minId);
}

/**
 * @param {Map<number, {id, section, row, number, label}>} meta seats by id
 * @returns {{stage, bounds, sections: object[], pos: Map<number, {x, y}>, rows: object[]}}
 *   stage/bounds are {x, y, w, h}; a section is {name, x, y, w, h, ids, rows}; a row is
 *   {name, section, y, x0, x1, ids} with ids left to right; pos is each seat's top-left corner.
 */
export function layoutVenue(meta) {
  const sections = new Map();
  for (const seat of meta.values()) {
    const sKey = seat.section ?? "";
    let sec = sections.get(sKey);
    if (!sec) sections.set(sKey, (sec = { name: sKey, minId: seat.id, rowMap: new Map() }));
    sec.minId = Math.min(sec.minId, seat.id);
    const rKey = seat.row ?? "";
    let row = sec.rowMap.get(rKey);
    if (!row) sec.rowMap.set(rKey, (row = { name: rKey, section: sKey, minId: seat.id, seats: [] }));
    row.minId = Math.min(row.minId, seat.id);
    row.seats.push(seat);
  }
  const ordered = byMinId(sections);
  let widest = 1;
  for (const sec of ordered) {
    sec.rowList = byMinId(sec.rowMap);
    for (const row of sec.rowList) {
      row.seats.sort((a, b) => (a.number ?? 0) - (b.number ?? 0) || a.id - b.id);
      widest = Math.max(widest, row.seats.length);
    }
  }
  const innerW = widest * PITCH;
  const width = innerW + 2 * LABEL;
  const stageW = Math.max(innerW * 0.6, Math.min(72, width)); // room for its title
  const stage = { x: (width - stageW) / 2, y: 0, w: stageW, h: STAGE_H };
  const pos = new Map();
  const rows = [];
  const out = [];
  let y = STAGE_H + SECTION_GAP;
  for (const sec of ordered) {
    const top = y;
    let x0 = Infinity;
    let x1 = -Infinity;
    const ids = [];
    const secRows = [];
    for (const row of sec.rowList) {
      const start = LABEL + (innerW - row.seats.length * PITCH) / 2;
      const rowIds = row.seats.map((seat, i) => {
        pos.set(seat.id, { x: start + i * PITCH + (PITCH - SEAT) / 2, y: y + (PITCH - SEAT) / 2 });
        ids.push(seat.id);
        return seat.id;
      });
      const r = { name: row.name, section: sec.name, y, x0: start, x1: start + row.seats.length * PITCH, ids: rowIds };
      x0 = Math.min(x0, r.x0);
      x1 = Math.max(x1, r.x1);
      rows.push(r);
      secRows.push(r);
      y += PITCH;
    }
    out.push({ name: sec.name, x: x0, y: top, w: x1 - x0, h: y - top, ids, rows: secRows });
    y += SECTION_GAP;
  }
  const bounds = { x: 0, y: 0, w: width, h: y - SECTION_GAP + PITCH / 2 };
  return { stage, bounds, sections: out, pos, rows };
}

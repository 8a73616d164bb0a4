import { describe, expect, it } from "vitest";
import { Timer, VirtualClock } from "./clock.js";

describe("VirtualClock", () => {
  it("fires timers in (deadline, arming order) order, only when due", () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    const t = (name: string) => new Timer(() => fired.push(`${name}@${clock.now}`));
    const a = t("a");
    const b = t("b");
    const c = t("c");
    const d = t("d");
    clock.arm(c, 30);
    clock.arm(a, 10);
    clock.arm(b, 10); // same deadline as a, armed later
    clock.arm(d, 20);
    expect(clock.nextDeadline()).toBe(10);
    clock.advance(9);
    expect(clock.fireDue()).toBe(0);
    clock.advance(11);
    expect(clock.fireDue()).toBe(3);
    expect(fired).toEqual(["a@20", "b@20", "d@20"]);
    expect(c.armed).toBe(true);
    expect(clock.pending).toBe(1);
  });

  it("re-arming moves a timer; cancelling removes it", () => {
    const clock = new VirtualClock();
    const fired: number[] = [];
    const timers = [0, 1, 2, 3, 4].map((i) => new Timer(() => fired.push(i)));
    timers.forEach((t, i) => clock.arm(t, 100 + i));
    clock.arm(timers[0], 200); // now last
    clock.cancel(timers[2]);
    clock.cancel(timers[2]); // no effect
    expect(timers[2].armed).toBe(false);
    clock.advance(1000);
    clock.fireDue();
    expect(fired).toEqual([1, 3, 4, 0]);
  });

  it("jumps to the next deadline when idle, and reports an empty queue", () => {
    const clock = new VirtualClock();
    expect(clock.jumpToNextDeadline()).toBe(false);
    let at = -1;
    clock.arm(new Timer(() => (at = clock.now)), 5000);
    expect(clock.jumpToNextDeadline()).toBe(true);
    expect(at).toBe(5000);
    expect(clock.now).toBe(5000);
    expect(clock.nowBigInt).toBe(5000n);
  });

  it("a timer re-armed for 'now' by its own callback fires on the next call, not in a loop", () => {
    const clock = new VirtualClock();
    let count = 0;
    const t = new Timer((self) => {
      count++;
      clock.arm(self, clock.now);
    });
    clock.arm(t, 0);
    expect(clock.fireDue()).toBe(1);
    expect(clock.fireDue()).toBe(1);
    expect(count).toBe(2);
  });

  it("keeps heap order under many random operations (checked against a sorted model)", () => {
    const clock = new VirtualClock();
    const order: number[] = [];
    const timers = Array.from({ length: 50 }, (_, i) => new Timer(() => order.push(i)));
    const model = new Map<number, [number, number]>();
    let seq = 0;
    let x = 12345;
    const rnd = () => (x = (x * 1103515245 + 12345) & 0x7fffffff);
    for (let step = 0; step < 500; step++) {
      const i = rnd() % 50;
      if (rnd() % 4 === 0) {
        clock.cancel(timers[i]);
        model.delete(i);
      } else {
        const dl = rnd() % 100;
        clock.arm(timers[i], dl);
        model.set(i, [dl, seq++]);
      }
    }
    clock.advance(1000);
    clock.fireDue();
    const expected = [...model.entries()]
      .sort((a, b) => a[1][0] - b[1][0] || a[1][1] - b[1][1])
      .map(([i]) => i);
    expect(order).toEqual(expected);
  });
});

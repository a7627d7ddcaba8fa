import { num, seconds } from "../../lib/format";
import type { ScalingActivity } from "../../lib/ops";
import { NumberField } from "../fields";

/** The policy's age target as the API takes it: null (backlog only) for an empty or unusable box. */
export function ageTargetFromInput(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/** The age target's field: empty means "scale on the backlog only" (targetOldestAgeSeconds: null). */
export function OldestAgeField({
  value,
  onChange,
  problem,
  disabled,
}: {
  value: number | null;
  onChange: (v: number | null) => void;
  problem?: string | undefined;
  disabled?: boolean;
}) {
  return (
    <NumberField
      id="policy-targetOldestAgeSeconds"
      name="targetOldestAgeSeconds"
      label="Target oldest order"
      unit="s"
      value={value ?? Number.NaN}
      onChange={(v) => onChange(ageTargetFromInput(v))}
      problem={problem}
      help="oldest order's wait for a task; empty = backlog only"
      placeholder="off"
      step={0.5}
      min={0}
      max={3600}
      disabled={disabled}
    />
  );
}

const LABEL: Record<NonNullable<ScalingActivity["signal"]>, string> = {
  backlog: "backlog",
  age: "oldest order",
  bounds: "min/max",
};

/** Which signal drove a scaling activity; nothing for entries that moved no tasks. */
export function SignalBadge({ activity }: { activity: Pick<ScalingActivity, "signal" | "oldestAgeSeconds"> }) {
  if (!activity.signal) return null;
  const title =
    activity.oldestAgeSeconds === undefined
      ? undefined
      : `oldest order waiting for a task: ${seconds(activity.oldestAgeSeconds)}`;
  return (
    <span className={`badge ${activity.signal === "age" ? "warning" : ""}`} data-signal={activity.signal} title={title}>
      {LABEL[activity.signal]}
    </span>
  );
}

/** The oldest-waiting tile's hint: the policy's age target, or that there is none. */
export function oldestAgeHint(targetSeconds: number | null): string {
  return targetSeconds === null ? "for a task; no age target" : `for a task; target ${num(targetSeconds)} s`;
}

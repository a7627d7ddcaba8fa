"use client";

import type { InputHTMLAttributes, ReactNode } from "react";

/**
 * A labelled number input. An empty box reads as NaN, so a half-typed value shows as a
 * problem instead of snapping back to a number.
 */
export function NumberField({
  label,
  unit,
  value,
  onChange,
  name,
  id,
  problem,
  help,
  step = 1,
  min,
  max,
  placeholder,
  disabled,
}: {
  label: string;
  unit?: string;
  value: number;
  onChange: (v: number) => void;
  name: string;
  id?: string;
  problem?: string | undefined;
  help?: string;
  step?: number;
  min?: number;
  max?: number | undefined;
  placeholder?: string;
  disabled?: boolean;
}) {
  const problemId = id && `${id}-problem`;
  return (
    <label className={`field ${problem ? "invalid" : ""}`} htmlFor={id}>
      <span>
        {label}
        {unit && <span className="faint"> ({unit})</span>}
      </span>
      <input
        id={id}
        name={name}
        type="number"
        inputMode="decimal"
        value={Number.isFinite(value) ? value : ""}
        step={step}
        min={min}
        max={max}
        placeholder={placeholder}
        disabled={disabled}
        onChange={(e) => onChange(e.target.value === "" ? Number.NaN : Number(e.target.value))}
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? problemId : undefined}
      />
      {problem ? (
        <span className="problem" id={problemId}>
          {problem}
        </span>
      ) : (
        help && <span className="help">{help}</span>
      )}
    </label>
  );
}

/** A labelled input whose value stays text (an empty box means "not set"). */
export function TextField({
  label,
  onValue,
  width,
  ...input
}: { label: ReactNode; onValue: (v: string) => void; width?: number } & Omit<
  InputHTMLAttributes<HTMLInputElement>,
  "onChange"
>) {
  return (
    <label className="field" style={width === undefined ? undefined : { width }}>
      <span>{label}</span>
      <input {...input} onChange={(e) => onValue(e.target.value)} />
    </label>
  );
}

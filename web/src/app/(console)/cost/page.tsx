import type { Metadata } from "next";
import { Cost } from "../../../components/cost/Cost";

export const metadata: Metadata = { title: "Cost" };

export default function CostPage() {
  return <Cost />;
}

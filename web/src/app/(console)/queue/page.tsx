import type { Metadata } from "next";
import { Queue } from "../../../components/queue/Queue";

export const metadata: Metadata = { title: "Queue & DLQ" };

export default function QueuePage() {
  return <Queue />;
}

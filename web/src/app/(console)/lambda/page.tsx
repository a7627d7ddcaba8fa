import type { Metadata } from "next";
import { Lambda } from "../../../components/lambda/Lambda";

export const metadata: Metadata = { title: "Lambda" };

export default function LambdaPage() {
  return <Lambda />;
}

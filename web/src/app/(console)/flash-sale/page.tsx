import type { Metadata } from "next";
import { FlashSale } from "../../../components/flash-sale/FlashSale";

export const metadata: Metadata = { title: "Flash sale" };

export default function FlashSalePage() {
  return <FlashSale />;
}

/**
 * `hvkit inspect`: what the loader sees in an image — ELF header, segments, Xen notes and,
 * when the image is loadable, where it would be loaded.
 *
 * @module
 */
import {
  computeLoadLayout,
  describeBzImage,
  describeImage,
  loadKernelImage,
  ImageError,
  parseElf,
  type ArchRegistry,
  type BzImageHeader,
  type ElfImage,
  type LoadLayout,
} from "@hvkit/core";
import type { CliIo } from "../cli-io.js";
import { ExitStatus } from "../exit-status.js";
import { IMAGE_FILE, readFileArgument } from "../file-arguments.js";
import { UsageError } from "../usage-error.js";

/**
 * Runs `hvkit inspect`; returns the exit status. A bzImage is described by its setup
 * header and payload, then the ELF kernel inside it. An image that parses but cannot be
 * loaded (overlapping segments, entry outside them, ...) is still described, then the
 * loader's objection is reported with exit status 2. Whether Xen notes are required is
 * the property of the arch in `arches` that boots the image's ELF machine (none: not
 * required).
 */
export async function inspectCommand(
  io: CliIo,
  imagePath: string,
  arches: ArchRegistry,
): Promise<number> {
  const file = readFileArgument(imagePath, IMAGE_FILE);
  let image: ElfImage;
  let bzImage: BzImageHeader | null;
  try {
    const kernel = await loadKernelImage(file);
    bzImage = kernel.bzImage;
    image = parseElf(kernel.elf);
  } catch (e) {
    if (e instanceof ImageError)
      throw new UsageError(`bad image ${imagePath}: ${e.where}: ${e.detail}`);
    throw e;
  }
  let layout: LoadLayout | undefined;
  let objection: ImageError | undefined;
  try {
    const arch = arches.all().find((a) => a.elfMachines.includes(image.header.machine));
    layout = computeLoadLayout(image, { requiresXenNotes: arch?.requiresXenNotes ?? false });
  } catch (e) {
    if (!(e instanceof ImageError)) throw e;
    objection = e;
  }
  const wrapper = bzImage === null ? "" : `${describeBzImage(bzImage, image.bytes.length)}\n\n`;
  io.stdout.write(`${imagePath}:\n${wrapper}${describeImage(image, layout).replace(/\n$/, "")}\n`);
  if (objection)
    throw new UsageError(`bad image ${imagePath}: ${objection.where}: ${objection.detail}`);
  return ExitStatus.OK;
}

/**
 * The operator's answers to the pruning brake, one device at a time:
 * Restore (the token was fine: the device is sent to again) or Confirm
 * removal (it was dead: the device is deleted). The same database calls as
 * `POST /v1/devices/:token/restore` and `/confirm-removal`. The token
 * shows only shortened; the form carries it sealed (../seal.ts), so the
 * page source never holds a token that could be sent to.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import type { DeviceRow } from "../../db/devices";
import { QUARANTINE_MS, confirmRemoval, quarantinedDevices, restoreDevice } from "../../db/quarantine";
import { NotFoundError, ValidationError } from "../../errors";
import { log, shortToken } from "../../log";
import { decodeCursor, encodeCursor } from "../../ops/paging";
import { operatorName, safeNext } from "../auth";
import type { ConsoleEnv } from "../console-env";
import { openCursor, seal, sealCursor, unseal } from "../seal";
import { Confirm, Pager, Recipient, Status, Time, Token } from "../components";

export const quarantinePages = new Hono<ConsoleEnv>();

const DEVICES_PER_PAGE = 20;

/** What a redirect back after an action says, by its `done` parameter. */
export const DONE_NOTICES: Record<string, string> = {
  restored: "Restored: the device is sent to again.",
  removed: "Removed: the device is deleted.",
};

/** The notice for `?done=…`, if any. */
export function DoneNotice({ done }: { done: string | undefined }) {
  const text = done === undefined ? undefined : DONE_NOTICES[done];
  return text ? (
    <p class="notice" role="status">
      {text}
    </p>
  ) : null;
}

/** The sealed reference each quarantined device's forms carry instead of its token, by token. */
export async function deviceRefs(env: Env, devices: readonly DeviceRow[]): Promise<ReadonlyMap<string, string>> {
  const held = devices.filter((d) => d.quarantined_at !== null);
  return new Map(await Promise.all(held.map(async (d) => [d.token, await seal(env, d.token)] as const)));
}

/** What the forms of a page's quarantined devices carry: their sealed references by token, the page's CSRF token, and the page to return to. */
export interface DeviceActions {
  refs: ReadonlyMap<string, string>;
  csrf: string;
  back: string;
}

/** Restore and Confirm removal for one quarantined device; its form carries the device's sealed token, not the token. */
export function QuarantineActions({ device, actions }: { device: DeviceRow; actions: DeviceActions }) {
  const fields = { device: actions.refs.get(device.token) ?? "", next: actions.back };
  const which = `${device.provider} device ${shortToken(device.token)}`;
  return (
    <span class="actions">
      <Confirm
        action="/admin/devices/restore"
        fields={fields}
        label="Restore…"
        question={`Send to this ${which} again?`}
        confirm="Restore"
        csrf={actions.csrf}
      />{" "}
      <Confirm
        action="/admin/devices/confirm-removal"
        fields={fields}
        label="Confirm removal…"
        question={`Delete this ${which}? Its user gets nothing on it until the app registers it again.`}
        confirm="Remove"
        csrf={actions.csrf}
        danger
      />
    </span>
  );
}

/** The page of quarantined devices after `cursor`, longest held first, and the cursor of the next. */
export async function quarantinePage(env: Env, cursor: string | undefined) {
  const after = decodeCursor(await openCursor(env, cursor, "held"), ["number", "string"]);
  const devices = await quarantinedDevices(env.DB, {}, { after: after && { quarantinedAt: after[0], token: after[1] }, limit: DEVICES_PER_PAGE });
  const last = devices.at(-1);
  const next = await sealCursor(env, devices.length === DEVICES_PER_PAGE && last ? encodeCursor(last.quarantined_at!, last.token) : null);
  return { devices, next, refs: await deviceRefs(env, devices) };
}

/** One quarantined device: who and what it is, why and since when it is held, when it is purged, and its actions. */
function HeldDeviceLine({ device, actions }: { device: DeviceRow; actions: DeviceActions }) {
  return (
    <tr data-quarantined="yes">
      <td>
        <Token token={device.token} />
      </td>
      <td>
        <Recipient customId={device.custom_id} userId={device.user_id} />
      </td>
      <td>
        {device.provider} · {device.app}
      </td>
      <td>{device.quarantine_reason ? <code>{device.quarantine_reason}</code> : <Status status="quarantined" />}</td>
      <td>
        <Time ms={device.quarantined_at} />
      </td>
      <td>
        <Time ms={device.quarantined_at === null ? null : device.quarantined_at + QUARANTINE_MS} />
      </td>
      <td>
        <QuarantineActions device={device} actions={actions} />
      </td>
    </tr>
  );
}

/** The quarantined devices as a table with their actions, and its pager (`held` is its cursor). */
export function QuarantineTable(props: {
  devices: DeviceRow[];
  actions: DeviceActions;
  pager: { params: Record<string, string | undefined>; next: string | null };
}) {
  if (props.devices.length === 0) return <p class="muted">No device is quarantined.</p>;
  return (
    <>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              <th>device</th>
              <th>user</th>
              <th>provider · app</th>
              <th>answer</th>
              <th>held since (UTC)</th>
              <th>purged after (UTC)</th>
              <th>action</th>
            </tr>
          </thead>
          <tbody>
            {props.devices.map((device) => (
              <HeldDeviceLine device={device} actions={props.actions} />
            ))}
          </tbody>
        </table>
      </div>
      <Pager path="/admin/failures" params={props.pager.params} cursorName="held" next={props.pager.next} />
    </>
  );
}

async function formFields(c: Context<ConsoleEnv>): Promise<{ token: string; back: string }> {
  const form = await c.req.parseBody();
  const token = typeof form.device === "string" && form.device !== "" ? await unseal(c.env, form.device) : null;
  if (token === null) throw new ValidationError("invalid_request", "device", "the form names no device this console showed");
  return { token, back: safeNext(typeof form.next === "string" ? form.next : undefined) };
}

/** `back` with `done=<what>`, so the page it returns to says what happened. */
function withDone(back: string, done: keyof typeof DONE_NOTICES): string {
  const url = new URL(back, "https://console.invalid");
  url.searchParams.set("done", done);
  return `${url.pathname}${url.search}${url.hash}`;
}

quarantinePages.post("/devices/restore", async (c) => {
  const { token, back } = await formFields(c);
  const device = await restoreDevice(c.env.DB, token, Date.now());
  if (!device) throw new NotFoundError("no quarantined device with this token (restored or removed already?)");
  log("console", { action: "restore", provider: device.provider, device: shortToken(device.token), by: operatorName(c.get("user")) });
  return c.redirect(withDone(back, "restored"), 303);
});

quarantinePages.post("/devices/confirm-removal", async (c) => {
  const { token, back } = await formFields(c);
  if (!(await confirmRemoval(c.env.DB, token))) {
    throw new NotFoundError("no quarantined device with this token (restored or removed already?)");
  }
  log("console", { action: "confirm_removal", device: shortToken(token), by: operatorName(c.get("user")) });
  return c.redirect(withDone(back, "removed"), 303);
});

/**
 * User: "did Mary get her reminder?" By `custom_id` (the company's id) or
 * LearnInk's `user_id`: the user's devices (tokens shortened; provider,
 * app, environment, whether the pruning brake holds them) and their
 * deliveries of the last 7 days, newest first.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import { type DeviceRow, devicesOfUser } from "../../db/devices";
import { recentRecipients } from "../../db/console-reads";
import { type DeliveryRow, userDeliveries } from "../../db/ledger-reads";
import { userOf } from "../../devices/validate";
import { decodeCursor, encodeCursor } from "../../ops/paging";
import { openCursor, sealCursor } from "../seal";
import type { ConsoleEnv } from "../console-env";
import { Pager, Recipient, Status, Time, Token } from "../components";
import { csrfToken } from "../csrf";
import { DeliveriesTable } from "../deliveries";
import { renderPage } from "../layout";
import { type DeviceActions, DoneNotice, deviceRefs, QuarantineActions } from "./quarantine";

export const userPages = new Hono<ConsoleEnv>();

const DELIVERIES_PER_PAGE = 50;
/** Recipients of the latest events listed before any search. */
const RECENT_USERS = 12;

/** The user a page is about: which kind of id, and the id. */
type UserRef = ReturnType<typeof userOf>;

/** What to look up before a search: how ids look, and the recipients of the latest events. */
function StartingPoints({ recent }: { recent: { custom_id: string | null; user_id: string | null }[] }) {
  return (
    <>
      <p class="muted">
        Look a user up by <code>custom_id</code> (your id for them, as LearnInk knows it, e.g. <code>emp-1001</code>) or by LearnInk's{" "}
        <code>user_id</code>: their devices and recent deliveries. Every user named on an event's page links here.
      </p>
      <h2>Recipients of the latest events</h2>
      {recent.length === 0 ? (
        <p class="muted">None yet: users appear once LearnInk's webhook has been received.</p>
      ) : (
        <ul class="recent-users">
          {recent.map((user) => (
            <li>
              <Recipient customId={user.custom_id} userId={user.user_id} />
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function SearchForm({ by, id }: { by: string; id: string }) {
  return (
    <form class="search" method="get" action="/admin/users" role="search">
      <select name="by" aria-label="which id">
        <option value="custom_id" selected={by === "custom_id"}>
          custom_id
        </option>
        <option value="user_id" selected={by === "user_id"}>
          user_id (LearnInk)
        </option>
      </select>
      <input name="id" type="search" value={id} placeholder="emp-1001" aria-label="user id" autocomplete="off" />
      <button type="submit">Look up</button>
    </form>
  );
}

/** A device's state: active, or held by the pruning brake (since when, the provider's answer) with Restore and Confirm removal. */
function DeviceState({ device, actions }: { device: DeviceRow; actions: DeviceActions }) {
  if (device.quarantined_at === null) return <span class="status s-sent">active</span>;
  return (
    <>
      <Status status="quarantined" /> since <Time ms={device.quarantined_at} />
      {device.quarantine_reason && (
        <>
          {" "}
          (<code>{device.quarantine_reason}</code>)
        </>
      )}
      <div>
        <QuarantineActions device={device} actions={actions} />
      </div>
    </>
  );
}

function DeviceLine({ device, actions }: { device: DeviceRow; actions: DeviceActions }) {
  return (
    <tr data-quarantined={device.quarantined_at !== null ? "yes" : "no"}>
      <td>
        <Token token={device.token} />
      </td>
      <td>
        {device.provider} · {device.app}
      </td>
      <td>
        {device.platform ?? "—"} · {device.environment}
      </td>
      <td>
        <Time ms={device.updated_at} />
      </td>
      <td>
        <DeviceState device={device} actions={actions} />
      </td>
    </tr>
  );
}

function Devices({ devices, actions }: { devices: DeviceRow[]; actions: DeviceActions }) {
  if (devices.length === 0) return <p class="muted">No registered device: notifications for this user are recorded as no device.</p>;
  return (
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th>device</th>
            <th>provider · app</th>
            <th>platform · environment</th>
            <th>registered (UTC)</th>
            <th>state</th>
          </tr>
        </thead>
        <tbody>
          {devices.map((device) => (
            <DeviceLine device={device} actions={actions} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The user's most recent deliveries, newest first; a line that says so when the ledger has none. */
function UserDeliveries({ user, rows }: { user: UserRef; rows: DeliveryRow[] }) {
  if (rows.length === 0) return <p class="muted">No notification for this {user.by} in the last 7 days.</p>;
  return <DeliveriesTable rows={rows} columns={["notified", "status", "event", "index", "device", "provider", "attempts", "error", "path"]} />;
}

/** A user's devices (with the sealed references their forms carry), the page of deliveries after `cursor`, and the next page's cursor. */
async function loadUser(env: Env, user: UserRef, cursor: string | undefined) {
  const after = decodeCursor(await openCursor(env, cursor), ["number", "string", "number", "string"]);
  const [devices, deliveries] = await Promise.all([
    devicesOfUser(env.DB, user.by, user.id),
    userDeliveries(env.DB, user, DELIVERIES_PER_PAGE, after && { bucket: after[0], event_id: after[1], idx: after[2], device_token: after[3] }, Date.now()),
  ]);
  const last = deliveries.at(-1);
  const next = await sealCursor(
    env,
    deliveries.length === DELIVERIES_PER_PAGE && last ? encodeCursor(last.bucket, last.event_id, last.idx, last.device_token) : null,
  );
  return { devices, deliveries, next, refs: await deviceRefs(env, devices) };
}

/** Before any search: the search form and where to start. */
async function startPage(c: Context<ConsoleEnv>, by: string) {
  const recent = await recentRecipients(c.env.DB, RECENT_USERS, Date.now());
  return renderPage(
    c,
    { title: "Users", current: "/admin/users" },
    <>
      <SearchForm by={by} id="" />
      <StartingPoints recent={recent} />
    </>,
  );
}

userPages.get("/users", async (c) => {
  const id = (c.req.query("id") ?? "").trim();
  const by = c.req.query("by") || "custom_id";
  if (id === "") return startPage(c, by);
  const user = userOf(id, by);
  const cursor = c.req.query("cursor");
  const { devices, deliveries, next, refs } = await loadUser(c.env, user, cursor);
  const back = `/admin/users?by=${user.by}&id=${encodeURIComponent(user.id)}`;
  return renderPage(
    c,
    { title: `User ${user.id}`, current: "/admin/users" },
    <>
      <DoneNotice done={c.req.query("done")} />
      <SearchForm by={user.by} id={user.id} />
      <h2>Devices</h2>
      <Devices devices={devices} actions={{ refs, csrf: csrfToken(c), back }} />
      <h2>Recent deliveries</h2>
      <UserDeliveries user={user} rows={deliveries} />
      <Pager path="/admin/users" params={{ by: user.by, id: user.id, cursor }} next={next} />
    </>,
  );
});

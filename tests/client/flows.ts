// The main flows an SPA builds on, written against the client generated from the combined
// API document. `tsc --noEmit` type-checks this file; it is not run.
import createClient from "openapi-fetch";
import type { components, paths } from "contract";

type Schemas = components["schemas"];

export async function signIn(baseUrl: string, username: string, password: string) {
  const client = createClient<paths>({ baseUrl });
  const { data, error } = await client.POST("/auth/token", { body: { username, password } });
  if (error || !data) throw new Error("sign-in refused");
  const tokens: { access: string; refresh: string; expiresIn: number } = {
    access: data.access_token,
    refresh: data.refresh_token,
    expiresIn: data.expires_in,
  };
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${tokens.access}` } });
}

type Client = Awaited<ReturnType<typeof signIn>>;

export async function everyPlatformOfAField(client: Client, field: string) {
  const platforms: Schemas["Registry_PlatformOut"][] = [];
  let cursor: string | null = "";
  while (cursor !== null) {
    const next: string = cursor;
    const { data }: { data?: Schemas["Registry_Page_PlatformOut_"] } = await client.GET(
      "/api/registry/platforms",
      { params: { query: { field, cursor: next, size: 100 } } },
    );
    if (!data) break;
    platforms.push(...data.items);
    cursor = data.next_cursor;
  }
  return platforms.map((p) => ({ code: p.code, name: p.name, state: p.state_zh, actions: p.allowed_actions }));
}

export async function firstPageOfPlatforms(client: Client) {
  const { data } = await client.GET("/api/registry/platforms", { params: { query: { page: 1, size: 20 } } });
  return { total: data?.total ?? 0, names: (data?.items ?? []).map((p) => p.name) };
}

export async function submitApplication(client: Client, appId: string) {
  const { data, error } = await client.POST("/api/projects/applications/{app_id}/actions/{action}", {
    params: { path: { app_id: appId, action: "submit" } },
    body: { pledge_accepted: true },
  });
  if (error || !data) throw new Error("submission refused");
  const submitted: { code: string; state: string; at: string | null | undefined } = {
    code: data.code,
    state: data.state_zh ?? data.state,
    at: data.submitted_at,
  };
  return submitted;
}

export async function readScoreSheets(client: Client, roundId: string) {
  const { data } = await client.GET("/api/evaluation/rounds/{round_id}/score-sheets", {
    params: { path: { round_id: roundId } },
  });
  return data;
}

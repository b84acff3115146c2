/**
 * CloudWatch's SNS messages name the region by its console display name ("US East (N. Virginia)"),
 * while EventBridge events and ARNs use the code. Identities must match across arrival paths, so
 * every display name maps back to its code here.
 */

/** Current display names, as the AWS console and CloudWatch SNS messages spell them. */
export const REGION_DISPLAY_NAMES: Readonly<Record<string, string>> = {
  "us-east-1": "US East (N. Virginia)",
  "us-east-2": "US East (Ohio)",
  "us-west-1": "US West (N. California)",
  "us-west-2": "US West (Oregon)",
  "ca-central-1": "Canada (Central)",
  "ca-west-1": "Canada West (Calgary)",
  "mx-central-1": "Mexico (Central)",
  "sa-east-1": "South America (São Paulo)",
  "af-south-1": "Africa (Cape Town)",
  "ap-east-1": "Asia Pacific (Hong Kong)",
  "ap-east-2": "Asia Pacific (Taipei)",
  "ap-northeast-1": "Asia Pacific (Tokyo)",
  "ap-northeast-2": "Asia Pacific (Seoul)",
  "ap-northeast-3": "Asia Pacific (Osaka)",
  "ap-south-1": "Asia Pacific (Mumbai)",
  "ap-south-2": "Asia Pacific (Hyderabad)",
  "ap-southeast-1": "Asia Pacific (Singapore)",
  "ap-southeast-2": "Asia Pacific (Sydney)",
  "ap-southeast-3": "Asia Pacific (Jakarta)",
  "ap-southeast-4": "Asia Pacific (Melbourne)",
  "ap-southeast-5": "Asia Pacific (Malaysia)",
  "ap-southeast-6": "Asia Pacific (New Zealand)",
  "ap-southeast-7": "Asia Pacific (Thailand)",
  "eu-central-1": "Europe (Frankfurt)",
  "eu-central-2": "Europe (Zurich)",
  "eu-north-1": "Europe (Stockholm)",
  "eu-south-1": "Europe (Milan)",
  "eu-south-2": "Europe (Spain)",
  "eu-west-1": "Europe (Ireland)",
  "eu-west-2": "Europe (London)",
  "eu-west-3": "Europe (Paris)",
  "il-central-1": "Israel (Tel Aviv)",
  "me-central-1": "Middle East (UAE)",
  "me-south-1": "Middle East (Bahrain)",
  "us-gov-east-1": "AWS GovCloud (US-East)",
  "us-gov-west-1": "AWS GovCloud (US-West)",
  "cn-north-1": "China (Beijing)",
  "cn-northwest-1": "China (Ningxia)",
};

/**
 * Older or alternative spellings seen in notifications and docs. "EU (…)" needs no entry: the
 * lookup key rewrites it to "Europe (…)", since AWS renamed all of them at once.
 */
const DISPLAY_NAME_ALIASES: Readonly<Record<string, string>> = {
  "US East (Northern Virginia)": "us-east-1",
  "US West (Northern California)": "us-west-1",
  "AWS GovCloud (US)": "us-gov-west-1",
  "Asia Pacific (Osaka-Local)": "ap-northeast-3",
  "Mexico (Mexico City)": "mx-central-1",
  "Canada (Montreal)": "ca-central-1",
  "Canada (Calgary)": "ca-west-1",
  "Middle East (United Arab Emirates)": "me-central-1",
};

/** Case, accents ("São"/"Sao"), spacing and the old "EU" prefix do not matter. */
function lookupKey(displayName: string): string {
  return displayName
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^eu (?=\()/, "europe ");
}

const CODE_BY_KEY: ReadonlyMap<string, string> = new Map([
  ...Object.entries(REGION_DISPLAY_NAMES).map(([code, name]) => [lookupKey(name), code] as const),
  ...Object.entries(DISPLAY_NAME_ALIASES).map(([name, code]) => [lookupKey(name), code] as const),
]);

const REGION_CODE = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

export function isRegionCode(text: string): boolean {
  return REGION_CODE.test(text);
}

/** The region code for a display name (or for a code passed as is), or undefined when unknown. */
export function regionCodeFromDisplayName(displayName: string): string | undefined {
  const trimmed = displayName.trim();
  if (isRegionCode(trimmed)) return trimmed;
  return CODE_BY_KEY.get(lookupKey(trimmed));
}

/**
 * The console host of a region's partition, or undefined for partitions whose console we do not
 * know (ISO, European Sovereign Cloud): a wrong link at 3 a.m. is worse than none.
 */
export function consoleHost(regionCode: string): string | undefined {
  if (!isRegionCode(regionCode)) return undefined;
  if (regionCode.startsWith("cn-")) return `${regionCode}.console.amazonaws.cn`;
  if (regionCode.startsWith("us-gov-")) return `${regionCode}.console.amazonaws-us-gov.com`;
  if (/^(?:us-iso|eusc-)/.test(regionCode)) return undefined;
  return `${regionCode}.console.aws.amazon.com`;
}

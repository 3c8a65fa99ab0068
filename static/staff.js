/* Staff pages: GOV.UK Frontend's components (menus, error summaries, banners). Loaded as a module, so it runs
   only where GOV.UK Frontend is supported; the pages work without it. */
import { initAll } from "./vendor/govuk-frontend/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();

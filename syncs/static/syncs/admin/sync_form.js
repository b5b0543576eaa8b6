/*
 * The Sync form's helpers; the form works without them.
 * - Model labels: refill each label's suggestions (a <datalist>) from the
 *   chosen platform's models; say so when the platform cannot be reached.
 * - Title: show the title that will be generated while the box is blank.
 * - Compatibility: compare the two models and offer the suggested mappings.
 */
"use strict";
(function () {
    const panel = () => document.getElementById("sync-compatibility");
    const message = (name) => (panel() ? panel().dataset[name] || "" : "");
    const field = (name) => document.getElementById("id_" + name);

    function statusOf(input) {
        return document.getElementById(input.id + "_status");
    }

    function setStatus(input, text, failed) {
        const status = statusOf(input);
        if (!status) {
            return;
        }
        status.textContent = text;
        status.classList.toggle("sync-models-error", Boolean(failed));
    }

    function fillChoices(input, models) {
        const list = document.getElementById(input.id + "_choices");
        list.replaceChildren(
            ...models.map((model) => {
                const option = document.createElement("option");
                option.value = model.label;
                option.textContent = model.verbose_name || model.label;
                return option;
            })
        );
    }

    async function loadModels(input) {
        const select = document.getElementById(input.dataset.platformField);
        if (!select || !select.value) {
            fillChoices(input, []);
            setStatus(input, "", false);
            return;
        }
        setStatus(input, message("msgLoading"), false);
        const url = input.dataset.modelsUrl + "?platform=" + encodeURIComponent(select.value);
        try {
            const response = await fetch(url, {
                credentials: "same-origin",
                headers: {Accept: "application/json"},
            });
            const answer = await response.json();
            if (!response.ok) {
                fillChoices(input, []);
                setStatus(input, answer.detail || message("msgUnreachable"), true);
                return;
            }
            fillChoices(input, answer.models);
            const loaded = message("msgLoaded").replace("%(count)s", answer.models.length);
            setStatus(input, loaded, false);
        } catch (error) {
            fillChoices(input, []);
            setStatus(input, message("msgUnreachable"), true);
        }
    }

    function titlePreview() {
        const title = field("title");
        if (!title || !title.dataset.domains) {
            return;
        }
        const domains = JSON.parse(title.dataset.domains);
        const side = (name) => [
            domains[field(name + "_platform").value] || "?",
            field(name + "_model").value || "?",
        ];
        const [source, sourceModel] = side("source");
        const [target, targetModel] = side("target");
        const relations = field("use_platform_relations");
        let text = `${source} (${sourceModel}) to ${target} (${targetModel})`;
        if (relations && relations.checked) {
            text += title.dataset.byPlatform;
        }
        title.placeholder = text;
    }

    function compatibilityQuery() {
        const names = ["source_platform", "source_model", "target_platform", "target_model"];
        const query = new URLSearchParams();
        for (const name of names) {
            if (!field(name) || !field(name).value) {
                return null;
            }
            query.set(name, field(name).value);
        }
        query.set("field_mappings", field("field_mappings").value);
        if (field("sync_all_fields").checked) {
            query.set("sync_all_fields", "on");
        }
        return query;
    }

    function showCompatibility(answer) {
        const box = panel();
        const warnings = box.querySelector(".sync-compat-warnings");
        warnings.replaceChildren(
            ...answer.warnings.map((text) => {
                const item = document.createElement("li");
                item.textContent = text;
                return item;
            })
        );
        box.querySelector(".sync-compat-status").textContent = answer.ok
            ? message("msgOk")
            : "";
        const suggestion = box.querySelector(".sync-compat-suggestion");
        const current = field("field_mappings").value.trim();
        suggestion.hidden = !answer.suggested_text || answer.suggested_text === current;
        box.querySelector(".sync-compat-suggested").textContent = answer.suggested_text;
    }

    async function checkCompatibility() {
        const box = panel();
        const status = box.querySelector(".sync-compat-status");
        const query = compatibilityQuery();
        if (!query) {
            status.textContent = message("msgIncomplete");
            return;
        }
        status.textContent = message("msgChecking");
        try {
            const response = await fetch(box.dataset.url + "?" + query, {
                credentials: "same-origin",
                headers: {Accept: "application/json"},
            });
            const answer = await response.json();
            if (!response.ok) {
                box.querySelector(".sync-compat-warnings").replaceChildren();
                status.textContent = answer.detail || message("msgFailed");
                return;
            }
            showCompatibility(answer);
        } catch (error) {
            status.textContent = message("msgFailed");
        }
    }

    function debounced(callback, wait) {
        let timer = null;
        return () => {
            clearTimeout(timer);
            timer = setTimeout(callback, wait);
        };
    }

    function start() {
        if (!panel() || !field("source_platform") || !field("target_platform")) {
            return;  // a read-only view of the sync: nothing to help with
        }
        const check = debounced(checkCompatibility, 400);
        for (const input of document.querySelectorAll("input[data-platform-field]")) {
            const select = document.getElementById(input.dataset.platformField);
            select.addEventListener("change", () => loadModels(input));
            input.addEventListener("input", titlePreview);
            input.addEventListener("change", check);
            if (select.value && !document.getElementById(input.id + "_choices").options.length) {
                loadModels(input);
            }
        }
        for (const name of ["source_platform", "target_platform", "use_platform_relations"]) {
            field(name).addEventListener("change", titlePreview);
        }
        for (const name of ["source_platform", "target_platform", "field_mappings", "sync_all_fields"]) {
            field(name).addEventListener("change", check);
        }
        panel().querySelector(".sync-compat-check").addEventListener("click", checkCompatibility);
        panel().querySelector(".sync-compat-apply").addEventListener("click", () => {
            field("field_mappings").value = panel().querySelector(".sync-compat-suggested").textContent;
            checkCompatibility();
        });
        titlePreview();
        if (compatibilityQuery()) {
            checkCompatibility();
        }
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
})();

// Upload page: collects files from drag-and-drop (files, folders, zips) and the file input, sends each file with its own
// XMLHttpRequest to the URL Blazor gives for the batch, and reports progress at most ten times a second. Files stream from
// disk through the browser: nothing here (or in .NET) holds a whole file in memory.

const FLUSH_MS = 100;
const PARALLEL = 2;

let nextId = 1;

// A dropped folder: walk it with the File System API (webkitGetAsEntry); readEntries returns at most ~100 entries a call.
async function entryFiles(entry, path, out) {
    if (entry.isFile) {
        const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
        out.push({ file, name: path + file.name });
    } else if (entry.isDirectory) {
        const reader = entry.createReader();
        for (;;) {
            const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
            if (batch.length === 0) break;
            for (const child of batch) await entryFiles(child, path + entry.name + "/", out);
        }
    }
}

async function droppedFiles(dataTransfer) {
    const out = [];
    const entries = [...dataTransfer.items].filter(i => i.kind === "file").map(i => i.webkitGetAsEntry ? i.webkitGetAsEntry() : null);
    if (entries.length > 0 && entries.every(e => e)) {
        for (const e of entries) await entryFiles(e, "", out);
    } else {
        for (const f of dataTransfer.files) out.push({ file: f, name: f.name });
    }
    return out;
}

function send(item, url, progress, dotnet) {
    return new Promise(resolve => {
        const xhr = new XMLHttpRequest();
        xhr.open("POST", url);
        xhr.upload.onprogress = e => { progress.set(item.id, e.loaded); };
        xhr.onload = async () => {
            progress.set(item.id, item.file.size);
            await dotnet.invokeMethodAsync("FileDone", item.id, xhr.status, xhr.responseText || "");
            resolve();
        };
        xhr.onerror = async () => {
            await dotnet.invokeMethodAsync("FileDone", item.id, 0, "The connection to the server failed.");
            resolve();
        };
        xhr.onabort = xhr.onerror;
        const form = new FormData();
        form.append("file", item.file, item.name);
        xhr.send(form);
    });
}

async function upload(files, dotnet) {
    if (files.length === 0) return;
    const items = files.map(f => ({ id: nextId++, file: f.file, name: f.name }));
    // Blazor answers with the URL (target project and dataset as chosen at the moment of the drop).
    const url = await dotnet.invokeMethodAsync("FilesQueued", items.map(i => ({ id: i.id, name: i.name, size: i.file.size })));
    if (!url) return;
    const progress = new Map();
    let dirty = false;
    const flush = async () => {
        if (!dirty) return;
        dirty = false;
        await dotnet.invokeMethodAsync("Progress", [...progress].map(([id, loaded]) => ({ id, loaded })));
    };
    const tracked = { set: (id, loaded) => { progress.set(id, loaded); dirty = true; } };
    const timer = setInterval(flush, FLUSH_MS);
    try {
        const queue = [...items];
        const workers = Array.from({ length: Math.min(PARALLEL, queue.length) }, async () => {
            while (queue.length > 0) await send(queue.shift(), url, tracked, dotnet);
        });
        await Promise.all(workers);
    } finally {
        clearInterval(timer);
        await flush();
    }
}

export function init(zone, inputs, dotnet) {
    const stop = e => { e.preventDefault(); e.stopPropagation(); };
    const over = e => { stop(e); zone.classList.add("k-drop-active"); };
    const leave = e => { stop(e); zone.classList.remove("k-drop-active"); };
    const drop = async e => {
        leave(e);
        await upload(await droppedFiles(e.dataTransfer), dotnet);
    };
    const change = async e => {
        const input = e.target;
        const files = [...input.files].map(f => ({ file: f, name: f.webkitRelativePath || f.name }));
        input.value = "";
        await upload(files, dotnet);
    };
    zone.addEventListener("dragenter", over);
    zone.addEventListener("dragover", over);
    zone.addEventListener("dragleave", leave);
    zone.addEventListener("drop", drop);
    for (const input of inputs) input.addEventListener("change", change);
    return {
        dispose: () => {
            zone.removeEventListener("dragenter", over);
            zone.removeEventListener("dragover", over);
            zone.removeEventListener("dragleave", leave);
            zone.removeEventListener("drop", drop);
            for (const input of inputs) input.removeEventListener("change", change);
        },
    };
}

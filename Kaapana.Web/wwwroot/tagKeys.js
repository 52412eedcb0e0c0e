// Number keys 1–9 toggle the n-th recent tag on the selection. Ignored while typing in a text field, with modifiers, or on
// auto-repeat, so filters and the tag input keep their digits.
const textTypes = new Set(['text', 'search', 'email', 'number', 'password', 'tel', 'url', 'date', 'datetime-local', 'month', 'time', 'week']);

function typing(t) {
    if (!t) return false;
    if (t.isContentEditable || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT') return true;
    return t.tagName === 'INPUT' && textTypes.has((t.type || 'text').toLowerCase());
}

export function attach(dotnet) {
    const handler = e => {
        if (e.ctrlKey || e.altKey || e.metaKey || e.repeat || e.key.length !== 1 || e.key < '1' || e.key > '9' || typing(e.target)) return;
        e.preventDefault();
        dotnet.invokeMethodAsync('OnTagKey', e.key);
    };
    document.addEventListener('keydown', handler);
    return { dispose: () => document.removeEventListener('keydown', handler) };
}

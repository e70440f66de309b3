// The object deletion lives in core/ since the API deletes objects after its own commits too; the
// activities keep importing it from here.
export { deleteObjectKeys, type ObjectStore } from '../core/delete-objects.ts';
